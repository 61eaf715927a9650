"""The loaded scenario's series, generated from the cluster as it is *now*, on every scrape.

The backfilled history ends at the load moment; from then on the Kubernetes stand-in's
`/metrics` serves what every exporter would show for the live cluster (kube-state-metrics,
cAdvisor and kubelet volume stats, the shop's own request/error/latency series, node and
postgres exporters), so a rollout, restart, scale, cordon, resource change or volume
expansion shows up in Prometheus like it would in a real cluster.

Each render runs the same generators as the backfill over a short live timeline (from an
anchor to now, one point per `step`) whose frames are the recorded history plus a snapshot
of the cluster taken per render, and keeps the newest sample of every series. Counters
integrate from the anchor, so they rise steadily; the anchor moves forward once the live
timeline is longer than `window`, keeping a render cheap on a long-running world. Every
cumulative series is served joined to the value Prometheus last got (`CounterSeam`), so
neither the load moment nor an anchor move shows as a counter jump or reset.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

from sandbox.kube import KubeSandbox
from sandbox.scenarios.catalog import Scenario
from sandbox.scenarios.cluster_history import snapshot
from sandbox.scenarios.frames import ClusterFrame, ClusterHistory
from sandbox.scenarios.metrics import write_metrics_to
from sandbox.scenarios.timeline import Timeline
from sandbox.world.counter_seam import CounterSeam, parse

LIVE_STEP = 15
"""Seconds between two points of the live timeline (a render is reused within one)."""
LIVE_WINDOW = 900
"""Longest live timeline before the anchor moves forward."""


def newest_samples(text: str, served: dict[str, float] | None = None) -> str:
    """OpenMetrics text reduced to what a scrape at its last timestamp would show: the
    series sampled then (a pod gone by then is gone), without timestamps (Prometheus
    stamps them with the scrape time). Families keep their order, series the order they
    first appeared in (a histogram point's buckets, sum and count together). A series in
    `served` shows that value instead (a counter joined to the history, `CounterSeam`)."""
    served = served or {}
    latest: dict[str, tuple[str, str]] = {}
    order: list[tuple[str, list[str]]] = []
    last = ""
    for line in text.splitlines():
        if not line or line == "# EOF":
            continue
        if line.startswith("#"):
            if line.startswith("# HELP"):
                order.append((line, []))
            elif order:
                order[-1] = (order[-1][0] + "\n" + line, order[-1][1])
            continue
        head, _, stamp = line.rpartition(" ")
        series, _, value = head.rpartition(" ")
        if series not in latest and order:
            order[-1][1].append(series)
        latest[series] = (value, stamp)
        last = max(last, stamp, key=float) if last else stamp
    out = io.StringIO()
    for header, names in order:
        out.write(header + "\n")
        for series in names:
            value, stamp = latest[series]
            if float(stamp) == float(last):
                shown = f"{served[series]:.17g}" if series in served else value
                out.write(f"{series} {shown}\n")
    out.write("# EOF\n")
    return out.getvalue()


class LiveMetrics:
    """A `KubeSandbox.metrics` source for one loaded scenario (thread-safe, cached per
    `step`)."""

    def __init__(
        self,
        scenario: Scenario,
        history: ClusterHistory,
        timeline: Timeline,
        kube: KubeSandbox,
        *,
        step: int = LIVE_STEP,
        window: int = LIVE_WINDOW,
        clock: Callable[[], float] = time.time,
        carried: dict[str, float] | None = None,
    ) -> None:
        """`carried`: the backfill's last value of every cumulative series
        (`last_cumulative_values` of the backfill file), which the live counters go on from."""
        self.scenario = scenario
        self.timeline = timeline
        self.kube = kube
        self.step = step
        self.window = window
        self.clock = clock
        self.anchor = timeline.now
        self.frames = ClusterHistory()
        self._keep_from(history.frames)
        self.seam = CounterSeam(dict(carried or {}))
        self.renders = 0
        self._cache: tuple[int, str] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        at = int(self.clock()) // self.step * self.step
        with self._lock:
            if self._cache is not None and self._cache[0] == at:
                return self._cache[1]
            # The cluster as it is now stands for this point of the live timeline.
            frame = snapshot(self.kube.cluster, at=max(float(at), self.frames.last.at))
            self.frames.add(frame)
            if at - self.anchor > self.window:
                self.anchor = at - self.step
                self._keep_from(list(self.frames.frames))
            live = Timeline(  # `now` stays the load moment: shapes are anchored to it
                start=self.anchor,
                incident=self.timeline.incident,
                now=self.timeline.now,
                end=max(at, self.anchor),
                step=self.step,
            )
            buffer = io.StringIO()
            write_metrics_to(buffer, self.scenario, self.frames, live, live=True)
            rendered = buffer.getvalue()
            families, samples = parse(rendered.splitlines())
            text = newest_samples(rendered, self.seam.values(samples, families, self.anchor))
            self._cache = (at, text)
            self.renders += 1
            return text

    def _keep_from(self, frames: list[ClusterFrame]) -> None:
        """Keep the frames the live timeline reads: from the last one before the anchor."""
        first = max((i for i, f in enumerate(frames) if f.at <= self.anchor), default=0)
        self.frames = ClusterHistory()
        for frame in frames[first:]:
            self.frames.add(frame)
