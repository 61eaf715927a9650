"""Weekly capacity and cost digest: what runs out soon, the top savings, what is idle or left
behind (`bot.capacity`), with the forecast curves of the soonest exhaustions and the top
savings as charts. Posted by the running bot, it is followed by the capacity review: the
recommendations proposed as actions, their cards in the digest's thread
(`bot.remediation.capacity_review`; off with OPSBOT_CAPACITY_PROPOSE=false)."""

from __future__ import annotations

from collections.abc import Callable

from bot.capacity import summary
from bot.capacity.models import CapacityReport
from bot.capacity.report import CapacityReports
from bot.digests.capacity_blocks import capacity_blocks
from bot.digests.capacity_charts import forecast_chart, savings_chart
from bot.digests.output import Chart, DigestOutput, DigestRequest, FollowUp, utc
from bot.remediation.escalation import SlackThread

Propose = Callable[[CapacityReport, SlackThread], None]
"""Proposes a report's recommendations as actions, their cards in a thread (the running
bot's capacity review; the command line has none)."""

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


def review_follow_up(report: CapacityReport, propose: Propose) -> FollowUp:
    """Once the digest is posted, propose its recommendations in its thread."""

    def follow_up(channel: str, ts: str) -> None:
        propose(report, SlackThread(channel, ts))

    return follow_up


def build(
    reports: CapacityReports, propose: Propose | None, request: DigestRequest
) -> DigestOutput:
    """The digest of the capacity report of everything as of `request.now`; with `propose`
    (the capacity review on), its rightsizing and idle findings are proposed in its thread
    once it is posted."""
    report = reports.build(utc(request.now))
    if not (report.forecasts or report.rightsizing or report.idle) and report.skipped:
        return DigestOutput(
            text="", blocks=[], skipped="nothing could be analysed: " + "; ".join(report.skipped)
        )
    output = digest_for(report)
    if propose is not None and (report.rightsizing or report.idle):
        output.follow_up = review_follow_up(report, propose)
    return output
