"""Ordered, paced Slack writes.

Slack allows about one message per second per channel. In an alert storm the bot has more
to say than that, so writes wait in one priority queue (headers first, then triage, then
edits) and are paced per channel on our side; the WebClient's retry handler still honours
any 429 `Retry-After` that slips through (e.g. from another replica).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from bot.logs import get_logger

log = get_logger("opsbot.slack.outbox")


class ChannelPacer:
    """Hands out posting slots per channel: `rate` per second after a burst of `burst`."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.burst = max(1, burst)
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, channel: str, now: float | None = None) -> float:
        """Take the channel's next slot; returns how long to wait before using it."""
        if self.interval == 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            earliest = now - self.interval * (self.burst - 1)
            slot = max(self._next.get(channel, earliest), earliest)
            self._next[channel] = slot + self.interval
            return max(0.0, slot - now)


class Outbox:
    """A priority queue of incident ids drained by a few worker threads.

    An incident is queued at most once (at its most urgent priority); the worker asks
    `run(incident_id)` to do the incident's next Slack step, which re-queues what follows.
    """

    def __init__(self, run: Callable[[int], None], workers: int = 4) -> None:
        self._run = run
        self._heap: list[tuple[int, int, int]] = []
        self._queued: dict[int, int] = {}
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._work, name=f"slack-outbox-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, priority: int, incident_id: int) -> None:
        with self._cond:
            current = self._queued.get(incident_id)
            if current is not None and current <= priority:
                return
            self._queued[incident_id] = priority
            heapq.heappush(self._heap, (priority, next(self._seq), incident_id))
            self._cond.notify()

    def depth(self) -> int:
        with self._cond:
            return len(self._queued)

    def _take(self) -> int | None:
        with self._cond:
            while not self._stopped:
                while self._heap:
                    priority, _, incident_id = heapq.heappop(self._heap)
                    if self._queued.get(incident_id) == priority:
                        del self._queued[incident_id]
                        return incident_id
                self._cond.wait()
            return None

    def _work(self) -> None:
        while (incident_id := self._take()) is not None:
            try:
                self._run(incident_id)
            except Exception:  # outer boundary: the worker job wrapper
                log.exception("slack step failed", incident=incident_id)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
