"""The loaded scenario's traces and logs, generated live from the cluster as it is *now*.

At load the world fills Jaeger and OpenSearch with the history up to the load moment; in a
closed-loop world this keeps them going: every `period` seconds a tick snapshots the
cluster and generates the traces and log lines of the seconds since the last tick with the
same generators as the backfill, so they follow what happens in the cluster:

- a service with no serving pod (a bad image rolled out everywhere, a crash loop, a node
  gone) never sees its requests: its spans go and its callers' calls fail with 503, up the
  dependency graph (`traces.place_on_pods`); its pods write no lines while their
  containers are down;
- the incident's trace patterns (errors, slow calls) and log bursts last while their
  cause is in the cluster, by the same gate as the live metrics (`causes.cause_gate`): a
  rollback off the new images, a restart of the pods that built up the state, a
  scale-out of an overloaded service ends them, where a real fix would end them.

Trace ids and random draws are seeded by the tick's own time, so every tick adds new
requests; nothing depends on the hour of day.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from sandbox.jaeger import TraceStore, generate_traces
from sandbox.kube import KubeSandbox
from sandbox.scenarios.catalog import Scenario
from sandbox.scenarios.causes import UNGATED, cause_gate
from sandbox.scenarios.cluster_history import snapshot
from sandbox.scenarios.frames import ClusterHistory
from sandbox.scenarios.logs import LogWriter
from sandbox.scenarios.timeline import Timeline
from sandbox.scenarios.traces import MICROS, build_pattern, place_on_pods

Json = dict[str, Any]
LIVE_PERIOD = 20.0
"""Seconds between two ticks (the newest log line or trace is at most this old)."""


class LogSink(Protocol):
    """Where live log documents go (the world's OpenSearch-API server)."""

    def add_logs(self, documents: list[Json]) -> None: ...


def incident_share(
    scenario: Scenario, history: ClusterHistory, incident: float
) -> Callable[[float], float]:
    """How much of the incident's cause is in the cluster at a moment (0..1): the largest
    gate of the scenario's gated metric effects; 1 when none is gated (the cause is outside
    the pods, so nothing in the cluster ends it)."""
    gate = cause_gate(scenario, history, incident)
    gated = [e for e in scenario.spec.metrics if e.kind not in UNGATED]

    def share(at: float) -> float:
        if not gated:
            return 1.0
        return max(gate(effect, at) for effect in gated)

    return share


class LiveSignals:
    """Generates one scenario's traces and logs tick by tick from the live cluster."""

    def __init__(
        self,
        scenario: Scenario,
        history: ClusterHistory,
        timeline: Timeline,
        kube: KubeSandbox,
        traces: TraceStore,
        logs: LogSink,
        *,
        period: float = LIVE_PERIOD,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.scenario = scenario
        self.timeline = timeline
        self.kube = kube
        self.traces = traces
        self.logs = logs
        self.period = period
        self.clock = clock
        self.at_incident = history.at(timeline.incident)
        self.last = float(timeline.now)
        self._owed = 0.0  # traces owed below one whole trace, carried to the next tick
        self.ticks = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LiveSignals:
        self._thread = threading.Thread(target=self._run, name="sandbox-live-signals", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Return once no tick is running."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.tick()

    def tick(self) -> tuple[list[Json], list[Json]]:
        """Generate and store the traces and logs from the last tick up to now."""
        now = self.clock()
        if now <= self.last:
            return [], []
        # The cluster as it is now stands for the whole window since the last tick.
        frame = replace(snapshot(self.kube.cluster, at=now), at=self.last)
        history = ClusterHistory()
        history.add(self.at_incident)
        if frame.at > self.at_incident.at:
            history.add(frame)
        window = Timeline(
            start=int(self.last),
            incident=self.timeline.incident,
            now=int(now),
            end=int(now),
            step=self.timeline.step,
        )
        share = incident_share(self.scenario, history, self.timeline.incident)
        traces = self._traces(history, now, share(now))
        writer = LogWriter(self.scenario, history, window, traces, seed=int(now), bursts=share)
        documents = [doc for doc in writer.documents() if window.start < _epoch(doc) <= now]
        for trace in traces:
            self.traces.add(trace)
        if documents:
            self.logs.add_logs(documents)
        self.last = now
        self.ticks += 1
        return traces, documents

    def _traces(self, history: ClusterHistory, now: float, share: float) -> list[Json]:
        spec = self.scenario.spec.traces
        per_hour = spec.normal_per_hour + (spec.incident_per_hour - spec.normal_per_hour) * share
        self._owed += per_hour * (now - self.last) / 3600
        count = int(self._owed)
        self._owed -= count
        if count == 0:
            return []
        interval = int((now - self.last) * MICROS / count)
        faulty = round(count * share) if spec.patterns else 0
        batches = [
            (faulty, [build_pattern(p) for p in spec.patterns]),
            (count - faulty, []),
        ]
        traces: list[Json] = []
        for offset, (n, patterns) in enumerate(batches):
            if n == 0:
                continue
            traces += generate_traces(
                count=n,
                seed=int(now * 1000) + offset,
                end_us=int(now * MICROS),
                interval_us=interval * count // n,
                patterns=patterns,
            )
        for trace in traces:
            place_on_pods(trace, history)
        return traces


def _epoch(doc: Json) -> float:
    return datetime.fromisoformat(str(doc["@timestamp"]).replace("Z", "+00:00")).timestamp()
