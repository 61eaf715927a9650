"""Weekly capacity and cost digest: what runs out soon, the top savings, what is idle or left
behind (`bot.capacity`), with the forecast curves of the soonest exhaustions and the top
savings as charts. Posted by the running bot, it is followed by the capacity review: the
recommendations proposed as actions, their cards in the digest's thread
(`bot.remediation.capacity_review`; off with OPSBOT_CAPACITY_PROPOSE=false)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.capacity import summary
from bot.capacity.models import CapacityReport
from bot.capacity.report import build_capacity_report
from bot.deps import Deps
from bot.digests.capacity_blocks import capacity_blocks
from bot.digests.capacity_charts import forecast_chart, savings_chart
from bot.digests.output import Chart, DigestContext, DigestOutput, FollowUp, utc
from bot.logs import get_logger
from bot.remediation.capacity_review import propose_in_thread
from bot.remediation.escalation import SlackThread
from bot.remediation.service import Remediation

log = get_logger("opsbot.digests.capacity")

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


@runtime_checkable
class Reviewing(DigestContext, Protocol):
    """A context that can propose actions: the running bot (not the command line)."""

    @property
    def remediation(self) -> Remediation: ...


def review_follow_up(report: CapacityReport) -> FollowUp:
    """Once the digest is posted, propose its recommendations in its thread."""

    def follow_up(ctx: DigestContext, channel: str, ts: str) -> None:
        if not isinstance(ctx, Reviewing):
            log.info("capacity proposals are made by the running bot; none from here")
            return
        propose_in_thread(ctx.remediation, report, SlackThread(channel, ts))

    return follow_up


def build(deps: Deps, name: str, now: datetime) -> DigestOutput:
    report = build_capacity_report(deps, utc(now))
    if not (report.forecasts or report.rightsizing or report.idle) and report.skipped:
        return DigestOutput(
            text="", blocks=[], skipped="nothing could be analysed: " + "; ".join(report.skipped)
        )
    output = digest_for(report)
    if deps.settings.capacity.propose and (report.rightsizing or report.idle):
        output.follow_up = review_follow_up(report)
    return output
