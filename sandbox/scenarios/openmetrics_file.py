"""Stream OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.

sandbox.procs.render_openmetrics builds counter and gauge families in memory; scenarios
also need classic histograms and write hundreds of thousands of samples, so this writer
streams lines to a file: families one after the other (each declared once), timestamps
in seconds, counters declared without `_total`, `# EOF` last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import TracebackType
from typing import Literal, TextIO

FamilyType = Literal["counter", "gauge", "histogram"]
FLUSH_LINES = 20_000


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def label_text(labels: Mapping[str, str]) -> str:
    """`{a="1",b="2"}` (sorted, escaped); cached, as generators ask for the same sets often."""
    return _label_text(tuple(sorted(labels.items())))


@lru_cache(maxsize=8192)
def _label_text(items: tuple[tuple[str, str], ...]) -> str:
    if not items:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in items) + "}"


def number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


class HistogramSeries:
    """The label texts of one histogram series, rendered once."""

    def __init__(self, labels: Mapping[str, str], bounds: Sequence[float]) -> None:
        self.labels = label_text(labels)
        self.bucket_labels = [
            label_text({**labels, "le": "+Inf" if b == float("inf") else number(b)}) for b in bounds
        ]


class OpenMetricsFile:
    def __init__(self, handle: TextIO) -> None:
        self._handle = handle
        self._lines: list[str] = []
        self._declared: set[str] = set()
        self._kind: FamilyType = "gauge"
        self._family = ""
        self.samples = 0

    def family(self, name: str, kind: FamilyType, help_text: str) -> None:
        if name in self._declared:
            raise ValueError(f"family {name} declared twice: its series must be together")
        self._declared.add(name)
        self._family, self._kind = name, kind
        self._lines.append(f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n")

    def sample(self, labels: str, value: float, at: int) -> None:
        """One sample of the current counter or gauge family (`labels` from label_text)."""
        suffix = "_total" if self._kind == "counter" else ""
        self._lines.append(f"{self._family}{suffix}{labels} {number(value)} {at}\n")
        self.samples += 1
        if len(self._lines) >= FLUSH_LINES:
            self.flush()

    def histogram(
        self, series: HistogramSeries, cumulative: Sequence[float], total: float, at: int
    ) -> None:
        """One histogram point: `cumulative[i]` observations at or below the i-th bound,
        the last bound being +Inf (its count is also `_count`)."""
        family, stamp = self._family, f" {at}\n"
        for text, count in zip(series.bucket_labels, cumulative, strict=True):
            self._lines.append(f"{family}_bucket{text} {number(count)}{stamp}")
        self._lines.append(f"{family}_sum{series.labels} {number(total)}{stamp}")
        self._lines.append(f"{family}_count{series.labels} {number(cumulative[-1])}{stamp}")
        self.samples += len(series.bucket_labels) + 2
        if len(self._lines) >= FLUSH_LINES:
            self.flush()

    def flush(self) -> None:
        self._handle.write("".join(self._lines))
        self._lines.clear()

    def close(self) -> None:
        self._lines.append("# EOF\n")
        self.flush()

    def __enter__(self) -> OpenMetricsFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
