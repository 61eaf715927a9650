"""What the sandbox saw: every request, parsed, with helpers for tests and responders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class RecordedRequest:
    """One HTTP request to the Messages API stand-in (failed ones included).

    `body` is the decoded JSON (None if it was not JSON), `raw_body` the bytes received;
    `headers` are lower-cased.
    `script`/`turn_index` name the turn that answered, `status` the HTTP status sent.
    """

    index: int
    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    request_id: str
    raw_body: bytes = b""
    script: str | None = None
    turn_index: int | None = None
    status: int | None = None
    error_message: str | None = None
    disconnected: bool = False

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages") if isinstance(self.body, dict) else None
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    @property
    def last_message(self) -> dict[str, Any] | None:
        return self.messages[-1] if self.messages else None

    @property
    def tool_names(self) -> list[str]:
        tools = self.body.get("tools") if isinstance(self.body, dict) else None
        return [str(t.get("name")) for t in tools or [] if isinstance(t, dict)]

    @property
    def system_text(self) -> str:
        system = self.body.get("system") if isinstance(self.body, dict) else None
        if isinstance(system, list):
            return "\n".join(str(b.get("text", "")) for b in system if isinstance(b, dict))
        return system if isinstance(system, str) else ""

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and self.body.get("stream") is True

    def tool_results(self) -> list[dict[str, Any]]:
        """The `tool_result` blocks of the last message (when it is the user's)."""
        last = self.last_message
        if last is None or last.get("role") != "user":
            return []
        return [b for b in content_blocks(last) if b.get("type") == "tool_result"]

    def tool_result_for(self, tool_name: str) -> dict[str, Any] | None:
        """The last message's result for a call of `tool_name` made in the turn before."""
        names = self.tool_calls_before_last()
        for result in self.tool_results():
            if names.get(str(result.get("tool_use_id"))) == tool_name:
                return result
        return None

    def tool_calls_before_last(self) -> dict[str, str]:
        """tool_use id -> tool name, for the assistant message before the last one."""
        messages = self.messages
        for message in reversed(messages[:-1]):
            if message.get("role") == "assistant":
                return {
                    str(b.get("id")): str(b.get("name"))
                    for b in content_blocks(message)
                    if b.get("type") == "tool_use"
                }
        return {}

    def last_user_text(self) -> str:
        """All text in the last user message, tool results' text included."""
        last = self.last_message
        if last is None or last.get("role") != "user":
            return ""
        return block_text(content_blocks(last))


@dataclass
class ExpectationFailure:
    script: str
    turn_index: int
    request_index: int
    message: str


def content_blocks(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)] if isinstance(content, list) else []


def block_text(blocks: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for block in blocks:
        if block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_result":
            inner = block.get("content")
            if isinstance(inner, str):
                parts.append(inner)
            elif isinstance(inner, list):
                parts.append(block_text([b for b in inner if isinstance(b, dict)]))
    return "\n".join(parts)
