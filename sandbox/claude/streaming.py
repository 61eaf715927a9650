"""Server-sent events for `stream: true`, in the API's order:

message_start, (content_block_start, ping after the first block start, content_block_delta...,
content_block_stop) per block, message_delta (stop_reason and cumulative usage), message_stop.
Text arrives as `text_delta` chunks of a few words, tool input as `input_json_delta` chunks of
its JSON text (the first one empty, as the API sends it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from sandbox.claude.errors import ApiError

Event = tuple[str, dict[str, Any]]
WORDS_PER_DELTA = 3
JSON_CHARS_PER_DELTA = 24


def sse(event: Event) -> bytes:
    name, data = event
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def message_start(message: dict[str, Any]) -> Event:
    usage = dict(message["usage"])
    usage["output_tokens"] = min(usage["output_tokens"], 1)
    opening = {**message, "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}
    return "message_start", {"type": "message_start", "message": opening}


def message_events(message: dict[str, Any]) -> Iterator[Event]:
    yield message_start(message)
    if not message["content"]:
        yield "ping", {"type": "ping"}
    for index, block in enumerate(message["content"]):
        yield from _block_events(index, block)
    usage = message["usage"]
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {
                "stop_reason": message["stop_reason"],
                "stop_sequence": message["stop_sequence"],
            },
            "usage": {
                "input_tokens": usage["input_tokens"],
                "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
                "cache_read_input_tokens": usage["cache_read_input_tokens"],
                "output_tokens": usage["output_tokens"],
            },
        },
    )
    yield "message_stop", {"type": "message_stop"}


def failing_events(message: dict[str, Any], error: ApiError) -> Iterator[Event]:
    """A stream that starts normally and then breaks with an `error` event."""
    yield message_start(message)
    yield "ping", {"type": "ping"}
    yield "error", {"type": "error", "error": {"type": error.error_type, "message": error.message}}


def _block_events(index: int, block: dict[str, Any]) -> Iterator[Event]:
    if block["type"] == "text":
        yield _start(index, {"type": "text", "text": ""})
        if index == 0:
            yield "ping", {"type": "ping"}
        for piece in text_pieces(block["text"]):
            yield _delta(index, {"type": "text_delta", "text": piece})
    else:
        yield _start(index, {**block, "input": {}})
        if index == 0:
            yield "ping", {"type": "ping"}
        for piece in json_pieces(block["input"]):
            yield _delta(index, {"type": "input_json_delta", "partial_json": piece})
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def text_pieces(text: str) -> list[str]:
    words = re.findall(r"\s*\S+\s*|\s+", text)
    return ["".join(words[i : i + WORDS_PER_DELTA]) for i in range(0, len(words), WORDS_PER_DELTA)]


def json_pieces(value: Any) -> list[str]:
    text = json.dumps(value, ensure_ascii=False)
    return [""] + [
        text[i : i + JSON_CHARS_PER_DELTA] for i in range(0, len(text), JSON_CHARS_PER_DELTA)
    ]


def _start(index: int, block: dict[str, Any]) -> Event:
    return "content_block_start", {
        "type": "content_block_start",
        "index": index,
        "content_block": block,
    }


def _delta(index: int, delta: dict[str, Any]) -> Event:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
