"""Turn a scripted `Reply` into a Messages API `Message` object."""

from __future__ import annotations

import json
import random
from typing import Any

from sandbox.claude.script import Reply, StopReason
from sandbox.claude.usage import InputUsage, estimate_tokens, usage_json

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class IdMint:
    """`msg_01...` and `toolu_01...` ids, reproducible for a given seed."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - ids must repeat across runs, not be secret

    def _suffix(self) -> str:
        return "".join(self._rng.choice(_BASE58) for _ in range(22))

    def message_id(self) -> str:
        return "msg_01" + self._suffix()

    def tool_use_id(self) -> str:
        return "toolu_01" + self._suffix()


def content_for(reply: Reply, ids: IdMint) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    # "" is sent as an empty text block, as models do return one before a tool call.
    if reply.text is not None:
        blocks.append({"type": "text", "text": reply.text})
    for call in reply.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id or ids.tool_use_id(),
                "name": call.name,
                "input": dict(call.input),
            }
        )
    return blocks


def block_tokens(block: dict[str, Any]) -> int:
    if block["type"] == "text":
        return estimate_tokens(block["text"])
    return estimate_tokens(block["name"] + json.dumps(block["input"]))


def fit_to_budget(
    blocks: list[dict[str, Any]], stop_reason: StopReason, max_tokens: int
) -> tuple[list[dict[str, Any]], StopReason, int]:
    """Cut the answer at `max_tokens` as generation would, and the stop reason becomes
    `max_tokens`: text is truncated, and the tool call being written when the limit hit is
    returned with the input generated so far (whole fields, then part of one string), as
    the API returns it; later blocks are never generated."""
    kept: list[dict[str, Any]] = []
    used = 0
    for block in blocks:
        cost = block_tokens(block)
        if used + cost <= max_tokens:
            kept.append(block)
            used += cost
            continue
        room = max_tokens - used
        if block["type"] == "text" and room > 0:
            kept.append({"type": "text", "text": block["text"][: room * 4]})
        elif block["type"] == "tool_use" and room > estimate_tokens(block["name"]):
            chars = (room - estimate_tokens(block["name"])) * 4
            kept.append({**block, "input": truncated_input(block["input"], chars)})
        return kept, "max_tokens", max_tokens
    return kept, stop_reason, max(used, 1)


def truncated_input(data: dict[str, Any], chars: int) -> dict[str, Any]:
    """The part of a tool input generated within `chars` characters of JSON: fields in
    order while they fit, then the prefix of a string field that does not."""
    kept: dict[str, Any] = {}
    left = chars
    for key, value in data.items():
        cost = len(json.dumps({key: value}))
        if cost <= left:
            kept[key] = value
            left -= cost
            continue
        head = len(json.dumps(key)) + 3
        if isinstance(value, str) and left > head:
            kept[key] = value[: left - head]
        break
    return kept


def build_message(
    reply: Reply,
    *,
    model: str,
    max_tokens: int,
    input_usage: InputUsage,
    ids: IdMint,
) -> dict[str, Any]:
    blocks, stop_reason, output_tokens = fit_to_budget(
        content_for(reply, ids), reply.resolved_stop_reason, max_tokens
    )
    return {
        "id": ids.message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": reply.stop_sequence if stop_reason == "stop_sequence" else None,
        "usage": usage_json(
            input_tokens=input_usage.input_tokens,
            output_tokens=output_tokens,
            created=input_usage.created,
            read=input_usage.read,
        ),
    }
