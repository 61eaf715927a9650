"""Pure decisions about Prometheus data: steps, per-series statistics, trends, naming."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.timewindow import iso
from tools.units import format_quantity, unit_of

Trend = Literal["rising", "falling", "flat", "unknown"]
TREND_THRESHOLD = 0.1


class SeriesSummary(BaseModel):
    """One series: its labels, statistics over finite values, and its points."""

    labels: dict[str, str]
    points: int = Field(description="Number of samples, including non-finite ones.")
    first: float | None = None
    last: float | None = None
    min: float | None = None
    max: float | None = None
    avg: float | None = None
    trend: Trend = "unknown"
    largest_change: float | None = Field(
        None, description="Signed difference between consecutive samples with the largest size."
    )
    largest_change_at: datetime | None = Field(None, description="Time of the later sample.")
    non_finite: int = Field(0, description="NaN or infinite samples left out of statistics.")
    values: list[tuple[float, float]] = Field(
        default_factory=list, description="(Unix seconds, value) pairs."
    )

    @property
    def name(self) -> str:
        return series_name(self.labels)


def points_for(span: timedelta, step: timedelta) -> int:
    return int(span.total_seconds() // step.total_seconds()) + 1


def parse_value(raw: Any) -> float:
    """Prometheus sends sample values as strings, including "NaN", "+Inf" and "-Inf"."""
    return float(raw)


def summarise(labels: dict[str, str], samples: Sequence[Sequence[Any]]) -> SeriesSummary:
    """Statistics of one series from Prometheus' `[[ts, "value"], ...]` pairs."""
    values = [(float(ts), parse_value(raw)) for ts, raw in samples]
    finite = [(ts, v) for ts, v in values if math.isfinite(v)]
    summary = SeriesSummary(
        labels=labels, points=len(values), non_finite=len(values) - len(finite), values=values
    )
    if not finite:
        return summary
    numbers = [v for _, v in finite]
    summary.first = numbers[0]
    summary.last = numbers[-1]
    summary.min = min(numbers)
    summary.max = max(numbers)
    summary.avg = sum(numbers) / len(numbers)
    summary.trend = trend_of(numbers)
    if len(finite) > 1:
        index, delta = max(
            ((i, finite[i][1] - finite[i - 1][1]) for i in range(1, len(finite))),
            key=lambda pair: abs(pair[1]),
        )
        summary.largest_change = delta
        summary.largest_change_at = datetime.fromtimestamp(finite[index][0], UTC)
    return summary


def trend_of(numbers: Sequence[float]) -> Trend:
    """Compare the mean of the last quarter with the first, relative to the series' scale."""
    if len(numbers) < 3:
        return "unknown"
    quarter = max(1, len(numbers) // 4)
    head = sum(numbers[:quarter]) / quarter
    tail = sum(numbers[-quarter:]) / quarter
    scale = max(abs(max(numbers)), abs(min(numbers)), max(numbers) - min(numbers))
    if scale == 0:
        return "flat"
    relative = (tail - head) / scale
    if relative > TREND_THRESHOLD:
        return "rising"
    if relative < -TREND_THRESHOLD:
        return "falling"
    return "flat"


def top_series(result: Sequence[dict[str, Any]], keep: int) -> list[SeriesSummary]:
    """The `keep` series of a matrix result with the highest peaks, summarised.

    Ranking needs only each series' peak, so the full summary (with its points) is built
    for the kept series alone: a result with thousands of series stays cheap.
    """
    order = sorted(range(len(result)), key=lambda i: -_peak(result[i].get("values") or []))
    return [summarise(result[i]["metric"], result[i].get("values") or []) for i in order[:keep]]


def _peak(samples: Sequence[Sequence[Any]]) -> float:
    finite = [v for v in (parse_value(raw) for _, raw in samples) if math.isfinite(v)]
    return max(finite) if finite else -math.inf


def series_name(labels: dict[str, str]) -> str:
    """`metric{a="b", c="d"}` as PromQL prints it."""
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def describe(summary: SeriesSummary) -> str:
    """One line for the model: name, then last/min/avg/max, trend and the largest jump."""
    if summary.max is None:
        return f"- {summary.name}: {summary.points} samples, none finite"
    unit = unit_of(summary.name.split("{", 1)[0])

    def q(value: float | None) -> str:
        return format_quantity(value, unit)

    line = (
        f"- {summary.name}: last={q(summary.last)} min={q(summary.min)} "
        f"avg={q(summary.avg)} max={q(summary.max)} trend={summary.trend}"
    )
    if summary.largest_change is not None and summary.largest_change_at is not None:
        span = (summary.max or 0) - (summary.min or 0)
        if span and abs(summary.largest_change) >= 0.5 * span:
            sign = "+" if summary.largest_change >= 0 else ""
            line += (
                f"; step change {sign}{q(summary.largest_change)} at "
                f"{iso(summary.largest_change_at)}"
            )
    if summary.non_finite:
        line += f"; {summary.non_finite} NaN/Inf samples"
    return line
