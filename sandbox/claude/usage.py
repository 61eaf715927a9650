"""Plausible token counts and prompt caching.

Tokens are estimated at one per four characters of the prompt as the model would see it
(tools, then system, then messages), plus the fixed tool-use system prompt the API adds
when tools are offered (346 tokens for auto/none, 313 for any/tool).

Caching follows the documented rules: a `cache_control` breakpoint caches the whole prefix up
to and including its block; a later request with an identical prefix (same key, same model)
reads it. Prefixes shorter than the model's minimum are not cached (1,024 tokens for the
Sonnet 4 family and Opus 4/4.1, 4,096 for Opus 4.5 and Haiku 4.5, 2,048 for Haiku 3.5). The
cache follows the prefix's levels, tools -> system -> messages: changing `tool_choice`
invalidates the message blocks but not the cached tools and system prompt. The answer reports
`cache_creation_input_tokens`, `cache_read_input_tokens`, and as `input_tokens` only what comes
after the last breakpoint.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.claude.recording import content_blocks

CHARS_PER_TOKEN = 4
# Smallest cacheable prefix per model family (longest matching prefix of the model id wins).
MIN_CACHEABLE_TOKENS = {
    "claude-sonnet-4": 1024,
    "claude-sonnet-3-7": 1024,
    "claude-opus-4": 1024,
    "claude-opus-4-5": 4096,
    "claude-haiku-4-5": 4096,
    "claude-3-5-haiku": 2048,
    "claude-haiku-3-5": 2048,
}


def min_cacheable_tokens(model: str, default: int = 1024) -> int:
    """The model's smallest cacheable prefix, `default` for a model not in the table."""
    matches = [name for name in MIN_CACHEABLE_TOKENS if model.startswith(name)]
    return MIN_CACHEABLE_TOKENS[max(matches, key=len)] if matches else default


TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
LOOKBACK_BLOCKS = 20


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Segment:
    text: str
    ttl: str | None
    role: str = ""


def prompt_segments(body: dict[str, Any]) -> list[Segment]:
    """The prompt in cache order; a segment with `ttl` ends at a breakpoint."""
    segments: list[Segment] = []
    for tool in body.get("tools") or []:
        segments.append(_segment(tool))
    system = body.get("system")
    if isinstance(system, str) and system:
        segments.append(Segment(system, None))
    elif isinstance(system, list):
        segments.extend(_segment(block, text_only=True) for block in system)
    for message in body.get("messages") or []:
        for block in content_blocks(message):
            segments.append(_segment(block, role=str(message.get("role"))))
    automatic = body.get("cache_control")
    if isinstance(automatic, dict) and segments:
        last = segments[-1]
        segments[-1] = Segment(last.text, str(automatic.get("ttl", "5m")), last.role)
    return segments


def tool_prompt_tokens(body: dict[str, Any]) -> int:
    if not body.get("tools"):
        return 0
    choice = body.get("tool_choice")
    kind = choice.get("type") if isinstance(choice, dict) else "auto"
    return 313 if kind in ("any", "tool") else 346


def count_input_tokens(body: dict[str, Any]) -> int:
    return tool_prompt_tokens(body) + sum(estimate_tokens(s.text) for s in prompt_segments(body))


def usage_json(
    *, input_tokens: int, output_tokens: int, created: dict[str, int], read: int
) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": sum(created.values()),
        "cache_read_input_tokens": read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": created.get("5m", 0),
            "ephemeral_1h_input_tokens": created.get("1h", 0),
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


@dataclass(frozen=True)
class InputUsage:
    input_tokens: int
    created: dict[str, int]
    read: int


@dataclass(frozen=True)
class Boundary:
    """The end of one prompt block: tokens so far, the prefix's cache key, its breakpoint TTL."""

    tokens: int
    key: str
    ttl: str | None


class PromptCache:
    """Cached prefixes per API key; used from the server's event loop only.

    Writes happen at `cache_control` breakpoints; reads also look at the block boundaries up to
    20 blocks before each breakpoint, as the API does, so a growing conversation whose
    breakpoint moves forward still reads the prefix cached by the previous request.
    """

    def __init__(
        self, min_tokens: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.min_tokens = min_tokens  # None: each model's documented minimum
        self._clock = clock
        self._entries: dict[str, tuple[float, str]] = {}

    def clear(self) -> None:
        self._entries.clear()

    def account(self, scope: str, body: dict[str, Any]) -> InputUsage:
        """Count a request's input, reading and writing cached prefixes as the API would."""
        now = self._clock()
        boundaries = list(_boundaries(scope, body))
        total = boundaries[-1].tokens if boundaries else tool_prompt_tokens(body)
        marks = [i for i, boundary in enumerate(boundaries) if boundary.ttl]
        near_marks = {i for j in marks for i in range(max(0, j - LOOKBACK_BLOCKS), j + 1)}
        hits = [i for i in near_marks if self._alive(boundaries[i].key, now)]
        read = max((boundaries[i].tokens for i in hits), default=0)
        for i in hits:
            if boundaries[i].tokens == read:
                self._store(boundaries[i].key, self._entries[boundaries[i].key][1], now)
        created: dict[str, int] = {}
        covered = read
        minimum = self.min_tokens or min_cacheable_tokens(str(body.get("model", "")))
        for j in marks:
            boundary = boundaries[j]
            if boundary.tokens < minimum or boundary.ttl is None:
                continue
            if boundary.tokens > covered:
                created[boundary.ttl] = created.get(boundary.ttl, 0) + boundary.tokens - covered
                covered = boundary.tokens
            self._store(boundary.key, boundary.ttl, now)
        return InputUsage(input_tokens=total - covered, created=created, read=read)

    def _alive(self, key: str, now: float) -> bool:
        entry = self._entries.get(key)
        return entry is not None and entry[0] > now

    def _store(self, key: str, ttl: str, now: float) -> None:
        expiry = max(self._entries.get(key, (0.0, ttl))[0], now + TTL_SECONDS[ttl])
        self._entries[key] = (expiry, ttl)


def _boundaries(scope: str, body: dict[str, Any]) -> Iterator[Boundary]:
    digest = hashlib.sha256(f"{scope}\0{body.get('model')}".encode())
    tokens = tool_prompt_tokens(body)
    choice = json.dumps(body.get("tool_choice"), sort_keys=True)
    in_messages = False
    for segment in prompt_segments(body):
        if segment.role and not in_messages:  # the first message block: tool_choice counts
            digest.update(f"\0tool_choice\0{choice}".encode())
            in_messages = True
        digest.update(f"\0{segment.role}\0{segment.text}".encode())
        tokens += estimate_tokens(segment.text)
        yield Boundary(tokens, digest.hexdigest(), segment.ttl)


def _segment(block: Any, *, role: str = "", text_only: bool = False) -> Segment:
    if not isinstance(block, dict):
        return Segment(json.dumps(block), None)
    control = block.get("cache_control")
    ttl = str(control.get("ttl", "5m")) if isinstance(control, dict) else None
    if text_only or block.get("type") == "text":
        return Segment(str(block.get("text", "")), ttl, role)
    visible = {k: v for k, v in block.items() if k != "cache_control"}
    return Segment(json.dumps(visible, sort_keys=True, ensure_ascii=False), ttl, role)
