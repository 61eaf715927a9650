"""Write metric history in the OpenMetrics text format `promtool tsdb create-blocks-from
openmetrics` reads: timestamps in seconds, a counter family declared without `_total` and its
samples named with it, one family's series together, `# EOF` last."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

MetricType = Literal["counter", "gauge"]


@dataclass
class Series:
    labels: Mapping[str, str]
    points: Sequence[tuple[float, float]]  # (Unix seconds, value), ascending


@dataclass
class MetricFamily:
    name: str  # for counters, without the _total suffix
    type: MetricType
    help: str = ""
    series: list[Series] = field(default_factory=list)

    def add(self, labels: Mapping[str, str], points: Iterable[tuple[float, float]]) -> None:
        self.series.append(Series(dict(labels), sorted(points)))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def _number(value: float) -> str:
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return str(int(number)) if number.is_integer() else repr(number)


def render_openmetrics(families: Iterable[MetricFamily]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help or family.name}")
        lines.append(f"# TYPE {family.name} {family.type}")
        sample_name = f"{family.name}_total" if family.type == "counter" else family.name
        for series in family.series:
            label_text = _labels(series.labels)
            lines.extend(
                f"{sample_name}{label_text} {_number(value)} {_number(ts)}"
                for ts, value in series.points
            )
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
