"""Live counters that carry on from the backfilled history, as a real exporter's would.

The live exporter (`live_metrics`) renders a short timeline from an anchor to now with the
same generators as the backfill. Its counters start at the anchor from a base the generator
estimates (a container's age times its current rate), not from the value the backfill left
in Prometheus. Served as they are, every counter would jump (or "reset") at the load moment
and again each time the anchor moves: `rate()` reads a reset as an increase of the whole new
value, so a request rate of 40/s read 32,000/s for five minutes after every load, and an
investigation sized a scale-out on it.

`CounterSeam` keeps every cumulative series (counters, histogram and summary buckets, sums
and counts) continuous across those seams: at each anchor, a series that was already
running is offset so that its first live value equals the last value Prometheus got. A
genuine reset inside the live timeline (the container restarted, the generator starts the
counter over) stays a reset: from the first drop on, the raw values are served.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

CUMULATIVE_TYPES = frozenset({"counter", "histogram", "summary"})
"""OpenMetrics family types whose samples only grow while their process lives."""
_CUMULATIVE_SUFFIXES = ("_total", "_bucket", "_count", "_sum")
_NAME = re.compile(r"^[^{\s]+")


@dataclass(frozen=True)
class Sample:
    """One line of OpenMetrics text: series (name and labels), value, timestamp."""

    series: str
    value: float
    stamp: float


def parse(lines: Iterable[str]) -> tuple[set[str], list[Sample]]:
    """The cumulative family names and every timestamped sample, in text order."""
    families: set[str] = set()
    samples: list[Sample] = []
    for line in lines:
        if not line or line == "# EOF":
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if kind.strip() in CUMULATIVE_TYPES:
                families.add(name)
            continue
        if line.startswith("#"):
            continue
        head, _, stamp = line.rpartition(" ")
        series, _, value = head.rpartition(" ")
        samples.append(Sample(series, float(value), float(stamp)))
    return families, samples


def is_cumulative(series: str, families: set[str]) -> bool:
    """Whether `series` belongs to a counter, histogram or summary family."""
    match = _NAME.match(series)
    name = match.group(0) if match else series
    if name in families:
        return True
    return any(name.endswith(s) and name[: -len(s)] in families for s in _CUMULATIVE_SUFFIXES)


def last_cumulative_values(path: Path) -> dict[str, float]:
    """The newest value of every cumulative series in a backfill file (what Prometheus
    holds at the load moment)."""
    with path.open() as handle:
        families, samples = parse(line.rstrip("\n") for line in handle)
    newest: dict[str, Sample] = {}
    for sample in samples:
        if is_cumulative(sample.series, families):
            seen = newest.get(sample.series)
            if seen is None or sample.stamp >= seen.stamp:
                newest[sample.series] = sample
    return {series: sample.value for series, sample in newest.items()}


@dataclass
class CounterSeam:
    """The offsets that join each live render's counters to what Prometheus last got.

    `carried` starts as the backfill's last values and then holds the last value served
    per cumulative series; `values` returns the value to serve for each series at the
    newest moment of one render (a render covers the live timeline from `anchor` on)."""

    carried: dict[str, float] = field(default_factory=dict)
    _anchor: float | None = None
    _offsets: dict[str, float] = field(default_factory=dict)

    def values(self, samples: list[Sample], families: set[str], anchor: float) -> dict[str, float]:
        """The served value of every cumulative series of a render at its newest moment."""
        points: dict[str, list[Sample]] = {}
        for sample in samples:
            if is_cumulative(sample.series, families):
                points.setdefault(sample.series, []).append(sample)
        if anchor != self._anchor:
            self._anchor = anchor
            self._offsets = {
                series: self.carried[series] - run[0].value
                for series, run in points.items()
                if series in self.carried and run[0].stamp <= anchor
            }
        served: dict[str, float] = {}
        for series, run in points.items():
            ordered = sorted(run, key=lambda s: s.stamp)
            restarted = any(b.value < a.value for a, b in pairwise(ordered))
            offset = 0.0 if restarted else self._offsets.get(series, 0.0)
            served[series] = ordered[-1].value + offset
        self.carried.update(served)
        return served
