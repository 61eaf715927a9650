"""Where prompt-cache breakpoints go, and where they would be wasted.

The cache is a prefix: tools, then system, then messages. A breakpoint caches the prefix up
to its block, but only when that prefix reaches the model's minimum (Anthropic's prompt
caching docs: 1,024 tokens for the Sonnet 4 family and Opus 4/4.1, 4,096 for Opus 4.5 and
Haiku 4.5, 2,048 for Haiku 3.5); below it nothing is cached and the breakpoint is wasted.
Changing `tool_choice` invalidates the cached messages (tools and system survive), so the
loop keeps `tool_choice` the same on every step and asks for the final submission in words.

Prefix sizes are estimated at four characters a token before sending: JSON schemas and
English text come out at more tokens than that, so the estimate errs low and a breakpoint
is never placed where the real prefix is too short. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

EPHEMERAL = {"type": "ephemeral"}
CHARS_PER_TOKEN = 4
DEFAULT_MINIMUM = 1024
MIN_CACHEABLE_TOKENS = {
    "claude-sonnet-4": 1024,
    "claude-sonnet-3-7": 1024,
    "claude-opus-4": 1024,
    "claude-opus-4-5": 4096,
    "claude-haiku-4-5": 4096,
    "claude-3-5-haiku": 2048,
}


def min_cacheable_tokens(model: str) -> int:
    """The smallest prefix `model` caches (longest matching family; 1,024 when unknown)."""
    matches = [name for name in MIN_CACHEABLE_TOKENS if model.startswith(name)]
    return MIN_CACHEABLE_TOKENS[max(matches, key=len)] if matches else DEFAULT_MINIMUM


def estimated_tokens(*parts: Any) -> int:
    """Tokens of the given prompt parts, estimated low (see the module docstring)."""
    chars = 0
    for part in parts:
        chars += len(part) if isinstance(part, str) else len(json.dumps(part))
    return chars // CHARS_PER_TOKEN


def system_blocks(
    text: str, tools: Sequence[Mapping[str, Any]], model: str
) -> list[dict[str, Any]]:
    """The system prompt, with a breakpoint (caching tools and system) only when that
    prefix is long enough for `model` to cache."""
    block: dict[str, Any] = {"type": "text", "text": text}
    if estimated_tokens(list(tools), text) >= min_cacheable_tokens(model):
        block["cache_control"] = EPHEMERAL
    return [block]


def with_moving_breakpoint(
    messages: Sequence[Mapping[str, Any]], prefix_tokens: int, model: str
) -> list[dict[str, Any]]:
    """A copy of `messages` whose only message breakpoint is on the last block, so each step
    reads the previous step's cached prefix and writes a longer one; none when tools, system
    and messages together (`prefix_tokens` for the first two) are too short to cache."""
    copied = [{**m, "content": [dict(b) for b in m["content"]]} for m in messages]
    for message in copied:
        for block in message["content"]:
            block.pop("cache_control", None)
    if prefix_tokens + estimated_tokens(copied) >= min_cacheable_tokens(model):
        copied[-1]["content"][-1]["cache_control"] = EPHEMERAL
    return copied
