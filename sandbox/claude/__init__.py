"""A stand-in for the Claude Messages API that replays scripted conversations."""

from sandbox.claude.app import ClaudeSandbox
from sandbox.claude.latency import Latency
from sandbox.claude.recording import ExpectationFailure, RecordedRequest
from sandbox.claude.script import (
    Expect,
    Fault,
    Reply,
    Responder,
    Script,
    ScriptError,
    ToolCall,
    Turn,
    load_scripts,
    script_from_dict,
)
from sandbox.claude.scriptbook import SCRIPT_HEADER

__all__ = [
    "SCRIPT_HEADER",
    "ClaudeSandbox",
    "Expect",
    "ExpectationFailure",
    "Fault",
    "Latency",
    "RecordedRequest",
    "Reply",
    "Responder",
    "Script",
    "ScriptError",
    "ToolCall",
    "Turn",
    "load_scripts",
    "script_from_dict",
]
