"""Weekly capacity and cost digest: what runs out soon, the top savings, what is idle or left
behind (`bot.capacity`), with the forecast curves of the soonest exhaustions and the top
savings as charts."""

from __future__ import annotations

from datetime import datetime

from bot.capacity import summary
from bot.capacity.blocks import capacity_blocks
from bot.capacity.charts import forecast_chart, savings_chart
from bot.capacity.models import CapacityReport
from bot.capacity.report import build_capacity_report
from bot.deps import Deps
from bot.digests.output import Chart, DigestOutput, utc

CHART_EXHAUSTIONS = 3
CHART_SAVINGS = 10


def charts_for(report: CapacityReport) -> list[Chart]:
    found: list[Chart] = []
    soonest = summary.soonest(report)[:CHART_EXHAUSTIONS]
    if soonest:
        names = ", ".join(summary.resource_name(e.resource) for e in soonest)
        found.append(
            Chart(
                "capacity-forecasts.png",
                "Capacity forecasts",
                forecast_chart(soonest, report.generated_at),
                f"Usage history and forecast with prediction interval and capacity of {names}",
            )
        )
    top = summary.savings(report)[:CHART_SAVINGS]
    if top:
        found.append(
            Chart(
                "capacity-savings.png",
                "Top savings",
                savings_chart(top),
                "Bar chart of the monthly saving of each rightsizing recommendation",
            )
        )
    return found


def digest_for(report: CapacityReport) -> DigestOutput:
    return DigestOutput(
        text=summary.headline(report),
        blocks=capacity_blocks(report, "Weekly capacity and cost digest"),
        charts=charts_for(report),
    )


def build(deps: Deps, name: str, now: datetime) -> DigestOutput:
    report = build_capacity_report(deps, utc(now))
    if not (report.forecasts or report.rightsizing or report.idle) and report.skipped:
        return DigestOutput(
            text="", blocks=[], skipped="nothing could be analysed: " + "; ".join(report.skipped)
        )
    return digest_for(report)
