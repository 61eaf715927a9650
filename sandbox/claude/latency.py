"""How long the stand-in takes to answer, shaped like the real API: a time to first token
(drawn per request, uniformly from a range), then output tokens at a steady rate.

A non-streaming answer arrives whole after both; a stream sends `message_start` after the
first token's wait and paces each delta by the tokens it carries (4 characters a token, the
stand-in's usual estimate). Faults answer at once, as overload and rate-limit errors do.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

Event = tuple[str, dict[str, Any]]
CHARS_PER_TOKEN = 4


@dataclass
class Latency:
    """`Latency((1.0, 3.0), 50.0)`: first token after 1 to 3 s, then 50 output tokens a second."""

    first_token_seconds: tuple[float, float] = (0.0, 0.0)
    output_tokens_per_second: float = 0.0  # 0: the whole answer at once
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        low, high = self.first_token_seconds
        if low < 0 or high < low:
            raise ValueError("first_token_seconds must be a range (low, high) with 0 <= low")
        if self.output_tokens_per_second < 0:
            raise ValueError("output_tokens_per_second must be 0 (instant) or more")
        self._rng = random.Random(self.seed)  # noqa: S311 - timing jitter, not secrets

    def first_token(self) -> float:
        low, high = self.first_token_seconds
        with self._lock:
            return self._rng.uniform(low, high)

    def generating(self, output_tokens: int) -> float:
        """Seconds to produce `output_tokens` after the first one."""
        if self.output_tokens_per_second <= 0:
            return 0.0
        return max(0, output_tokens - 1) / self.output_tokens_per_second

    def whole_answer(self, message: dict[str, Any]) -> float:
        """Seconds until a non-streaming `message` is complete."""
        return self.first_token() + self.generating(int(message["usage"]["output_tokens"]))

    async def paced(self, events: Iterator[Event]) -> AsyncIterator[Event]:
        """The stream's events, the first after the first token's wait, deltas at the rate."""
        await asyncio.sleep(self.first_token())
        for event in events:
            name, data = event
            if name == "content_block_delta" and self.output_tokens_per_second > 0:
                delta = data["delta"]
                chars = len(str(delta.get("text") or delta.get("partial_json") or ""))
                await asyncio.sleep(chars / CHARS_PER_TOKEN / self.output_tokens_per_second)
            yield event
