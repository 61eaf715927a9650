"""Capacity charts as PNG bytes: forecast curves with their shaded prediction interval and
the capacity line, and the top savings as horizontal bars (matplotlib object API, like
`bot.digests.charts`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from matplotlib.figure import Figure

from bot.capacity import summary
from bot.capacity.models import Exhaustion, Forecast, Metric, Rightsizing
from bot.digests import charts
from bot.digests.charts import ERROR_RED, PALETTE


def _scale(metric: Metric) -> tuple[float, str]:
    return (1.0, "cores") if metric is Metric.CPU else (float(summary.GIB), "GiB")


def _days(at: datetime, now: datetime) -> float:
    return (at - now).total_seconds() / 86400


def shown_days(item: Exhaustion) -> float:
    """How far ahead a panel looks: twice the time to exhaustion (a week at least), so the
    crossing sits in the middle of the forecast rather than squeezed at its start."""
    crossing = item.days_likely if item.days_likely is not None else item.days_earliest
    return max(7.0, 2.0 * crossing)


def _plot_forecast(
    figure: Figure, position: int, rows: int, item: Exhaustion, now: datetime
) -> None:
    forecast: Forecast = item.forecast
    divisor, unit = _scale(forecast.resource.metric)
    axes = figure.add_subplot(rows, 1, position)
    if forecast.history:
        axes.plot(
            [_days(t, now) for t, _ in forecast.history],
            [v / divisor for _, v in forecast.history],
            color=PALETTE[0],
            label="used",
        )
    ahead = [p for p in forecast.points if _days(p.at, now) <= shown_days(item)]
    if ahead:
        at = [_days(p.at, now) for p in ahead]
        axes.fill_between(
            at,
            [p.lower / divisor for p in ahead],
            [p.upper / divisor for p in ahead],
            color=PALETTE[1],
            alpha=0.25,
            label=f"{forecast.interval:.0%} prediction interval",
        )
        mean = [p.mean / divisor for p in ahead]
        axes.plot(at, mean, color=PALETTE[1], linestyle="--", label="forecast")
    if forecast.capacity is not None:
        axes.axhline(forecast.capacity / divisor, color=ERROR_RED, linewidth=1.5, label="capacity")
    if item.days_likely is not None:
        axes.axvline(item.days_likely, color=ERROR_RED, linestyle="--", linewidth=1)
        axes.annotate(
            f"full in ~{summary.days(item.days_likely)}",
            (item.days_likely, (forecast.capacity or 0.0) / divisor),
            xytext=(6, -14),
            textcoords="offset points",
            fontsize=8,
            color=ERROR_RED,
        )
    axes.axvline(0, color="#888888", linestyle=":", linewidth=1)
    axes.set_xlabel("days from now")
    axes.set_title(
        f"{summary.resource_name(forecast.resource)}: "
        f"{summary.when_full(item, now).split(' (')[0]}",
        fontsize=10,
    )
    axes.set_ylabel(unit)
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")


def forecast_chart(exhaustions: Sequence[Exhaustion], now: datetime) -> bytes:
    """One panel per resource (history, forecast, shaded interval, capacity line)."""
    rows = max(len(exhaustions), 1)
    figure = Figure(figsize=(9, 2.9 * rows + 0.4))
    if not exhaustions:
        axes = figure.add_subplot()
        axes.set_axis_off()
        axes.text(0.5, 0.5, "nothing runs out within the forecast horizon", ha="center")
    for index, item in enumerate(exhaustions, start=1):
        _plot_forecast(figure, index, rows, item, now)
    figure.tight_layout()
    return charts._png(figure)


def savings_chart(items: Sequence[Rightsizing]) -> bytes:
    return charts.hbar_chart(
        [f"{i.usage.namespace}/{i.usage.workload} ({i.usage.container})" for i in items],
        [i.saving_usd_month for i in items],
        title="Top savings from rightsizing ($/month)",
        xlabel="$ per month",
    )
