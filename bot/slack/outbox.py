"""Ordered, paced Slack writes.

Slack allows about one message per second per channel. In an alert storm the bot has more
to say than that, so writes wait in per-channel priority queues (headers first, then
answers to people, then triage, then edits). A worker takes a channel only when its next
slot has come and only then picks the channel's most urgent item, so a header that
arrives late still overtakes every triage waiting for the same channel. One write per
channel is in flight at a time in a process.

Edits (`edit=True`, chat.update) are paced apart when an `edits` Pace is given: Slack
limits chat.update as a Web API Tier 3 method ("50+ per minute", per method per workspace
per app: https://docs.slack.dev/apis/web-api/rate-limits; slackapi/java-slack-sdk's
MethodsRateLimits lists CHAT_UPDATE as Tier3), not like chat.postMessage ("special" tier,
about 1 message per second per channel with short bursts). So all edits share one lane,
`EDIT_LANE`, and one bucket for the workspace, and never take a channel's post slot. An
edit cannot overtake the post it edits: the caller queues an edit only once the message
exists, and queues an incident at most once (in one lane) at a time.

It is the pacing of every write, not only of incident steps: the app's one WebClient sends
each Web API write through `call` (bot.slack.writer names its lane and priority), so a
digest, an ephemeral reply, a modal or an upload waits for its slot like a header does.
Methods Slack limits per workspace rather than per channel get lanes of their own (`lanes`).

With a `gate` (bot.slack.pacing.SharedPacing, when Redis is configured) the slot must also
be granted by the bucket all replicas share, so N replicas together keep to the rate. The
WebClient's retry handler still honours any 429 `Retry-After` that slips through (e.g.
while Redis is down and pacing is per process again).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from bot.deps import guarded
from bot.logs import get_logger
from bot.slack.writer import EDIT_LANE, OutboxStopped

log = get_logger("opsbot.slack.outbox")
T = TypeVar("T")
__all__ = ["EDIT_LANE", "Gate", "Outbox", "OutboxStopped", "Pace", "Paces", "unpaced"]


class Gate(Protocol):
    def wait(self, channel: str, priority: int) -> float:
        """Take a slot for one write (0.0) or say how many seconds until one is free."""
        ...

    def refund(self, channel: str) -> None:
        """Give back a slot taken for a write that did not happen."""
        ...


@dataclass(frozen=True)
class Pace:
    """How one lane's writes are paced: a local token bucket (`rate` per second, `burst`)
    and, when given, the `gate` all replicas share. With `reserve` and burst >= 2, writes
    other than headers (priority 0) leave the last token to headers."""

    rate: float
    burst: int = 1
    gate: Gate | None = None
    reserve: bool = True


class Paces(Protocol):
    """Runs one write to a channel in that channel's pacing and returns its result;
    `edit=True` for a chat.update, which Slack limits apart from posts."""

    def __call__(self, channel: str, fn: Callable[[], T], *, edit: bool = False) -> T: ...


def unpaced(channel: str, fn: Callable[[], T], *, edit: bool = False) -> T:
    """A `Paces` that writes at once (no outbox at hand, e.g. in unit tests)."""
    return fn()


@dataclass
class _Job:
    """A one-off paced write (`Outbox.call`); its caller waits on `future`."""

    fn: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)

    def run(self) -> None:
        try:
            self.future.set_result(self.fn())
        except Exception as exc:  # noqa: BLE001 - handed to the waiting caller, who re-raises
            self.future.set_exception(exc)


@dataclass
class _Channel:
    """A token bucket per channel. The most urgent priority (0, thread headers) may take
    the last token; everything else leaves one in reserve when the burst allows, so a new
    incident's header goes out at once even while triage keeps the channel busy."""

    pace: Pace
    heap: list[tuple[int, int, int | _Job]] = field(default_factory=list)
    tokens: float = 0.0
    stamp: float = 0.0
    busy: bool = False
    not_before: float = 0.0  # when the shared gate said a slot frees up

    def wait_for(self, priority: int, now: float) -> float:
        """Seconds until an item of `priority` may go (0 = now); refills the bucket."""
        rate, burst = self.pace.rate, self.pace.burst
        if rate <= 0:
            return max(0.0, self.not_before - now)
        self.tokens = min(float(burst), self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        need = 1.0 if priority == 0 or burst < 2 or not self.pace.reserve else 2.0
        return max(0.0, (need - self.tokens) / rate, self.not_before - now)


class Outbox:
    """Per-channel priority queues of incident ids (and one-off calls), drained by a few
    worker threads.

    An incident is queued at most once (at its most urgent priority); the worker calls
    `run(incident_id)` to do the incident's next Slack step, which re-queues what follows.
    `run` returns False when it wrote nothing (e.g. another replica had done the step):
    the channel's slot is then given back instead of being wasted. Items queued with
    `edit=True` go to `run_edit` (default `run`) from `EDIT_LANE`, paced by `edits`; with no
    `edits` they are paced as posts to their channel, as before. `lanes` names further lanes
    with their own pacing (methods Slack limits per workspace, e.g. `chat.postEphemeral`):
    a `call` to such a lane is paced by it instead of as a post to a channel.
    """

    def __init__(
        self,
        run: Callable[[int], bool | None],
        rate: float,
        burst: int = 1,
        workers: int = 4,
        gate: Gate | None = None,
        edits: Pace | None = None,
        run_edit: Callable[[int], bool | None] | None = None,
        lanes: Mapping[str, Pace] | None = None,
    ) -> None:
        self._run = run
        self._run_edit = run_edit or run
        self._posts = Pace(rate, max(1, burst), gate)
        self._edits = None if edits is None else replace(edits, burst=max(1, edits.burst))
        self._lanes = {
            name: replace(pace, burst=max(1, pace.burst)) for name, pace in (lanes or {}).items()
        }
        if self._edits is not None:
            self._lanes[EDIT_LANE] = self._edits
        self._channels: dict[str, _Channel] = {}
        self._queued: dict[int, tuple[str, int]] = {}
        self._jobs = 0
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._on_worker = threading.local()
        self._threads = [
            threading.Thread(target=self._work, name=f"slack-outbox-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, channel: str, priority: int, incident_id: int, *, edit: bool = False) -> None:
        lane = self._lane_of(channel, edit)
        with self._cond:
            current = self._queued.get(incident_id)
            if current is not None and current[1] <= priority:
                return
            self._queued[incident_id] = (lane, priority)
            self._push(lane, priority, incident_id)

    def _lane_of(self, channel: str, edit: bool) -> str:
        return EDIT_LANE if edit and self._edits is not None else channel

    def call(self, channel: str, priority: int, fn: Callable[[], T], *, edit: bool = False) -> T:
        """Run `fn` (one write to `channel`) when the channel's slot comes, and return
        what it returns; blocks the caller meanwhile. Raises what `fn` raises. Called from
        an outbox worker (a step that writes twice) it runs at once: waiting would deadlock."""
        if getattr(self._on_worker, "active", False):
            return fn()
        job = _Job(fn)
        with self._cond:
            if self._stopped:
                raise OutboxStopped("the Slack outbox has stopped")
            self._jobs += 1
            self._push(self._lane_of(channel, edit), priority, job)
        result: T = job.future.result()
        return result

    def _push(self, name: str, priority: int, item: int | _Job) -> None:
        lane = self._channels.get(name)
        if lane is None:
            pace = self._lanes.get(name, self._posts)
            lane = _Channel(pace, tokens=float(pace.burst), stamp=time.monotonic())
            self._channels[name] = lane
        heapq.heappush(lane.heap, (priority, next(self._seq), item))
        self._cond.notify_all()

    def depth(self) -> int:
        with self._cond:
            return len(self._queued) + self._jobs

    def idle(self) -> bool:
        """True when nothing is queued and no worker is writing: a drain point for shutdown
        and for callers that must read what the outbox has written so far."""
        with self._cond:
            busy = any(lane.busy for lane in self._channels.values())
            return not busy and not self._queued and self._jobs == 0

    def _pop(self, name: str, lane: _Channel) -> int | _Job | None:
        while lane.heap:
            priority, _, item = heapq.heappop(lane.heap)
            if isinstance(item, _Job):
                self._jobs -= 1
                return item
            if self._queued.get(item) == (name, priority):
                del self._queued[item]
                return item
        return None

    def _choose(self) -> tuple[str, int] | None:
        """Under the lock: claim the channel whose next write may go first (marks it busy)."""
        while not self._stopped:
            now = time.monotonic()
            best: tuple[float, int, str] | None = None
            for name, lane in self._channels.items():
                if lane.busy or not lane.heap:
                    continue
                priority = lane.heap[0][0]
                wait = lane.wait_for(priority, now)
                if best is None or (wait, priority) < (best[0], best[1]):
                    best = (wait, priority, name)
            if best is None:
                self._cond.wait()
                continue
            wait, priority, name = best
            if wait > 0:
                self._cond.wait(wait)
                continue
            self._channels[name].busy = True
            return name, priority
        return None

    def _take(self) -> tuple[str, int | _Job] | None:
        while True:
            with self._cond:
                chosen = self._choose()
            if chosen is None:
                return None
            name, priority = chosen
            with self._cond:
                lane = self._channels[name]
            gate = lane.pace.gate
            # Asked outside the lock: a slow Redis must not hold up other channels.
            wait = gate.wait(name, priority) if gate is not None else 0.0
            with self._cond:
                item = None if wait > 0 else self._pop(name, lane)
                if item is not None:
                    if lane.pace.rate > 0:
                        lane.tokens -= 1.0
                    return name, item
                lane.busy = False
                lane.not_before = time.monotonic() + wait
                self._cond.notify_all()
            if wait <= 0 and gate is not None:  # only stale entries: give the slot back
                guarded("slack pacing", name, gate.refund, name)

    def _work(self) -> None:
        self._on_worker.active = True
        while (taken := self._take()) is not None:
            name, item = taken
            with self._cond:
                lane = self._channels[name]
            wrote: bool | None = True
            try:
                if isinstance(item, _Job):
                    item.run()
                else:
                    run = self._run_edit if name == EDIT_LANE else self._run
                    wrote = guarded("slack step", f"incident {item}", run, item)
            finally:
                if wrote is False and lane.pace.gate is not None:
                    guarded("slack pacing", name, lane.pace.gate.refund, name)
                with self._cond:
                    lane.busy = False
                    if wrote is False and lane.pace.rate > 0:
                        lane.tokens = min(float(lane.pace.burst), lane.tokens + 1.0)
                    self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            orphans = [
                item
                for lane in self._channels.values()
                for _, _, item in lane.heap
                if isinstance(item, _Job)
            ]
            self._cond.notify_all()
        for job in orphans:
            job.future.set_exception(OutboxStopped("the Slack outbox stopped before this write"))
        for thread in self._threads:
            thread.join(timeout=5)
