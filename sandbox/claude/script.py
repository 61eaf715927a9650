"""Scripted conversations: what the stand-in "model" answers, turn by turn.

A `Script` is a named list of `Turn`s; each request consumes the next turn. A turn answers
with a `Reply` (text and/or tool calls), a `Fault` (an HTTP error, or an error event in the
middle of a stream), or a `Responder` function that picks either from the request. A turn may
stall first (to trip client timeouts) and may `Expect` something of the request.

Scripts load from YAML or JSON (see `script_from_dict` for the format).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml

if TYPE_CHECKING:
    from sandbox.claude.recording import RecordedRequest

StopReason = Literal["end_turn", "tool_use", "max_tokens", "stop_sequence", "pause_turn", "refusal"]
FaultKind = Literal[
    "invalid_request",
    "authentication",
    "permission",
    "not_found",
    "request_too_large",
    "rate_limit",
    "api_error",
    "overloaded",
]


class ScriptError(ValueError):
    """A script file or dict that does not follow the format."""


@dataclass(frozen=True)
class ToolCall:
    """A `tool_use` block. `input` is sent as given, even if it breaks the tool's schema."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """A model answer: optional text, then tool calls (several = parallel tool use)."""

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: StopReason | None = None
    stop_sequence: str | None = None

    @property
    def resolved_stop_reason(self) -> StopReason:
        if self.stop_reason is not None:
            return self.stop_reason
        return "tool_use" if self.tool_calls else "end_turn"


@dataclass(frozen=True)
class Fault:
    """An error answer; `mid_stream` sends it as an SSE `error` event after `message_start`."""

    kind: FaultKind
    retry_after: float | None = None
    message: str | None = None
    mid_stream: bool = False


Responder = Callable[["RecordedRequest"], "Reply | Fault"]
Check = Callable[["RecordedRequest"], "str | None"]


@dataclass(frozen=True)
class Expect:
    """Conditions on the request a turn answers; a failure is a 400 and is recorded."""

    tool_result_for: str | None = None
    last_user_text_contains: str | None = None
    system_contains: str | None = None
    tools_include: tuple[str, ...] = ()
    tool_choice_type: str | None = None
    check: Check | None = None


@dataclass(frozen=True)
class Turn:
    reply: Reply | None = None
    fault: Fault | None = None
    respond: Responder | None = None
    stall_seconds: float = 0.0
    expect: Expect | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.reply, self.fault, self.respond)) != 1:
            raise ScriptError("a turn needs exactly one of reply, fault or respond")


TurnLike = Turn | Reply | Fault | Responder


@dataclass(frozen=True)
class Script:
    name: str
    turns: tuple[Turn, ...]
    api_key: str | None = None

    @classmethod
    def of(cls, name: str, turns: Sequence[TurnLike], api_key: str | None = None) -> Script:
        """Build from turns, replies, faults or responder functions."""
        return cls(name=name, turns=tuple(as_turn(t) for t in turns), api_key=api_key)


def as_turn(item: TurnLike) -> Turn:
    if isinstance(item, Turn):
        return item
    if isinstance(item, Reply):
        return Turn(reply=item)
    if isinstance(item, Fault):
        return Turn(fault=item)
    if callable(item):
        return Turn(respond=item)
    raise ScriptError(f"not a turn: {item!r}")


TURN_KEYS = {"text", "tool_calls", "stop_reason", "stop_sequence", "fault", "stall", "expect"}
EXPECT_KEYS = {
    "tool_result_for",
    "last_user_text_contains",
    "system_contains",
    "tools_include",
    "tool_choice_type",
}


def script_from_dict(data: Mapping[str, Any]) -> Script:
    """`{name, api_key?, turns: [turn, ...]}` where a turn is a mapping with:
    text, tool_calls [{name, input, id?}], stop_reason, stop_sequence,
    fault {kind, retry_after?, message?, mid_stream?}, stall (seconds), expect {...}."""
    if not isinstance(data.get("name"), str) or not isinstance(data.get("turns"), list):
        raise ScriptError("a script needs a string 'name' and a list 'turns'")
    turns = tuple(_turn_from_dict(data["name"], i, t) for i, t in enumerate(data["turns"]))
    api_key = data.get("api_key")
    return Script(name=data["name"], turns=turns, api_key=str(api_key) if api_key else None)


def scripts_from_document(document: Any) -> tuple[list[Script], str | None]:
    """A file holds one script, or `{scripts: [...], active?: name}`."""
    if not isinstance(document, Mapping):
        raise ScriptError("a script file holds a mapping")
    if "scripts" in document:
        scripts = [script_from_dict(item) for item in document["scripts"]]
        active = document.get("active")
        return scripts, str(active) if active else (scripts[0].name if scripts else None)
    script = script_from_dict(document)
    return [script], script.name


def load_scripts(path: str | Path) -> tuple[list[Script], str | None]:
    """Scripts from a `.yaml`/`.yml`/`.json` file (JSON is YAML), and the one to activate."""
    return scripts_from_document(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def _turn_from_dict(script: str, index: int, data: Any) -> Turn:
    where = f"script {script!r} turn {index}"
    if not isinstance(data, Mapping):
        raise ScriptError(f"{where}: a turn is a mapping")
    unknown = set(data) - TURN_KEYS
    if unknown:
        raise ScriptError(f"{where}: unknown keys {sorted(unknown)}")
    stall = float(data.get("stall", 0.0))
    expect = _expect_from_dict(where, data["expect"]) if "expect" in data else None
    if "fault" in data:
        fault = data["fault"]
        if not isinstance(fault, Mapping) or fault.get("kind") not in get_args(FaultKind):
            raise ScriptError(f"{where}: fault.kind must be one of {get_args(FaultKind)}")
        retry = fault.get("retry_after")
        return Turn(
            fault=Fault(
                kind=fault["kind"],
                retry_after=float(retry) if retry is not None else None,
                message=fault.get("message"),
                mid_stream=bool(fault.get("mid_stream", False)),
            ),
            stall_seconds=stall,
            expect=expect,
        )
    calls = tuple(
        ToolCall(name=str(call["name"]), input=call.get("input") or {}, id=call.get("id"))
        for call in data.get("tool_calls") or []
    )
    stop = data.get("stop_reason")
    if stop is not None and stop not in get_args(StopReason):
        raise ScriptError(f"{where}: stop_reason must be one of {get_args(StopReason)}")
    if data.get("text") is None and not calls:
        raise ScriptError(f"{where}: a reply needs text or tool_calls")
    reply = Reply(
        text=data.get("text"),
        tool_calls=calls,
        stop_reason=stop,
        stop_sequence=data.get("stop_sequence"),
    )
    return Turn(reply=reply, stall_seconds=stall, expect=expect)


def _expect_from_dict(where: str, data: Any) -> Expect:
    if not isinstance(data, Mapping) or set(data) - EXPECT_KEYS:
        raise ScriptError(f"{where}: expect takes {sorted(EXPECT_KEYS)}")
    return Expect(
        tool_result_for=data.get("tool_result_for"),
        last_user_text_contains=data.get("last_user_text_contains"),
        system_contains=data.get("system_contains"),
        tools_include=tuple(data.get("tools_include") or ()),
        tool_choice_type=data.get("tool_choice_type"),
    )
