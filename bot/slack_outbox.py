"""Ordered, paced Slack writes.

Slack allows about one message per second per channel. In an alert storm the bot has more
to say than that, so writes wait in per-channel priority queues (headers first, then
triage, then edits). A worker takes a channel only when its next slot has come and only
then picks the channel's most urgent item, so a header that arrives late still overtakes
every triage waiting for the same channel. One write per channel is in flight at a time.
The WebClient's retry handler still honours any 429 `Retry-After` that slips through
(e.g. from another replica).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.deps import guarded
from bot.logs import get_logger

log = get_logger("opsbot.slack.outbox")


@dataclass
class _Channel:
    """A token bucket per channel. The most urgent priority (0, thread headers) may take
    the last token; everything else leaves one in reserve when the burst allows, so a new
    incident's header goes out at once even while triage keeps the channel busy."""

    heap: list[tuple[int, int, int]] = field(default_factory=list)
    tokens: float = 0.0
    stamp: float = 0.0
    busy: bool = False

    def wait_for(self, priority: int, now: float, rate: float, burst: int) -> float:
        """Seconds until an item of `priority` may go (0 = now); refills the bucket."""
        if rate <= 0:
            return 0.0
        self.tokens = min(float(burst), self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        need = 1.0 if priority == 0 or burst < 2 else 2.0
        return max(0.0, (need - self.tokens) / rate)


class Outbox:
    """Per-channel priority queues of incident ids, drained by a few worker threads.

    An incident is queued at most once (at its most urgent priority); the worker calls
    `run(incident_id)` to do the incident's next Slack step, which re-queues what follows.
    """

    def __init__(
        self, run: Callable[[int], None], rate: float, burst: int = 1, workers: int = 4
    ) -> None:
        self._run = run
        self._rate = rate
        self._burst = max(1, burst)
        self._channels: dict[str, _Channel] = {}
        self._queued: dict[int, tuple[str, int]] = {}
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._work, name=f"slack-outbox-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, channel: str, priority: int, incident_id: int) -> None:
        with self._cond:
            current = self._queued.get(incident_id)
            if current is not None and current[1] <= priority:
                return
            self._queued[incident_id] = (channel, priority)
            lane = self._channels.setdefault(
                channel, _Channel(tokens=float(self._burst), stamp=time.monotonic())
            )
            heapq.heappush(lane.heap, (priority, next(self._seq), incident_id))
            self._cond.notify_all()

    def depth(self) -> int:
        with self._cond:
            return len(self._queued)

    def _pop(self, name: str, lane: _Channel) -> int | None:
        while lane.heap:
            priority, _, incident_id = heapq.heappop(lane.heap)
            if self._queued.get(incident_id) == (name, priority):
                del self._queued[incident_id]
                return incident_id
        return None

    def _take(self) -> tuple[str, int] | None:
        with self._cond:
            while not self._stopped:
                now = time.monotonic()
                best: tuple[float, int, str] | None = None
                for name, lane in self._channels.items():
                    if lane.busy or not lane.heap:
                        continue
                    priority = lane.heap[0][0]
                    wait = lane.wait_for(priority, now, self._rate, self._burst)
                    if best is None or (wait, priority) < (best[0], best[1]):
                        best = (wait, priority, name)
                if best is None:
                    self._cond.wait()
                    continue
                wait, _, name = best
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                lane = self._channels[name]
                incident_id = self._pop(name, lane)
                if incident_id is None:
                    continue
                lane.busy = True
                if self._rate > 0:
                    lane.tokens -= 1.0
                return name, incident_id
            return None

    def _work(self) -> None:
        while (taken := self._take()) is not None:
            name, incident_id = taken
            try:
                guarded("slack step", f"incident {incident_id}", self._run, incident_id)
            finally:
                with self._cond:
                    self._channels[name].busy = False
                    self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
