"""The model seam: an `LLM` protocol and its implementation over the official `anthropic` SDK.

The SDK does the retrying (429, 529, 5xx, timeouts and connection errors, with back-off and
`retry-after`); whatever still fails leaves as `LLMUnavailable`, naming why, so the caller
can fall back to the pattern engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import anthropic

from bot.errors import DependencyDown


@dataclass(frozen=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0

    @property
    def total(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_tokens
            + self.cache_read_tokens
        )


@dataclass(frozen=True)
class LLMReply:
    """An assistant message: its content blocks as plain dicts (ready to send back)."""

    model: str
    content: list[dict[str, Any]]
    stop_reason: str | None
    usage: TokenUsage = field(default_factory=TokenUsage)

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        return [block for block in self.content if block.get("type") == "tool_use"]

    @property
    def text(self) -> str:
        return "\n".join(b["text"] for b in self.content if b.get("type") == "text").strip()


class LLMUnavailable(DependencyDown):
    """The model could not answer (after the SDK's retries); `reason` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class LLM(Protocol):
    def create(
        self,
        *,
        model: str,
        system: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]],
        messages: Sequence[dict[str, Any]],
        tool_choice: dict[str, Any],
        max_tokens: int,
        timeout: float,
    ) -> LLMReply: ...

    def close(self) -> None: ...


class ClaudeLLM:
    """Messages API calls through `anthropic.Anthropic` (any `base_url`, e.g. a stand-in)."""

    def __init__(
        self, api_key: str, *, base_url: str | None, timeout: float, max_retries: int
    ) -> None:
        self._client = anthropic.Anthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    def create(
        self,
        *,
        model: str,
        system: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]],
        messages: Sequence[dict[str, Any]],
        tool_choice: dict[str, Any],
        max_tokens: int,
        timeout: float,
    ) -> LLMReply:
        client = self._client.with_options(timeout=timeout)
        try:
            message = client.messages.create(  # type: ignore[call-overload]
                model=model,
                system=list(system),
                tools=list(tools),
                messages=list(messages),
                tool_choice=tool_choice,
                max_tokens=max_tokens,
            )
        except anthropic.APIError as exc:
            raise LLMUnavailable(classify(exc), str(exc)[:300]) from exc
        usage = message.usage
        return LLMReply(
            model=message.model,
            content=[_block(b) for b in message.content if b.type in ("text", "tool_use")],
            stop_reason=message.stop_reason,
            usage=TokenUsage(
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_creation_tokens=usage.cache_creation_input_tokens or 0,
                cache_read_tokens=usage.cache_read_input_tokens or 0,
            ),
        )

    def close(self) -> None:
        self._client.close()


STATUS_REASONS = {429: "rate_limited", 529: "overloaded", 401: "unauthorized", 403: "unauthorized"}


def classify(exc: anthropic.APIError) -> str:
    """A short reason for the answer's footer: rate_limited, overloaded, timeout..."""
    if isinstance(exc, anthropic.APITimeoutError):
        return "timeout"
    if isinstance(exc, anthropic.APIConnectionError):
        return "unreachable"
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        return STATUS_REASONS.get(status, "api_error" if status >= 500 else f"rejected_{status}")
    return "api_error"


def _block(block: Any) -> dict[str, Any]:
    if block.type == "text":
        return {"type": "text", "text": block.text}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": dict(block.input)}
