"""Monthly ROI report: the seed formula with its inputs in settings (`OPSBOT_DIGEST_ROI_*`).

    minutes saved per incident = max(baseline MTTR - MTTR this period, 0)
    engineer time saved (h)    = incidents resolved x minutes saved / 60 x engineers per incident
    engineer savings           = engineer time saved x hourly rate
    avoided outage cost        = incidents resolved x minutes saved / 60 x outage cost per hour
    spend                      = AI spend (the model-call ledger) + infrastructure (pro rata)
    net = savings + avoided outage cost - spend;  ROI = net / spend

The period is the calendar month (UTC) of the day before the run, as for the monthly cost
report. Chart: benefits against costs.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.digests import charts
from bot.digests.cost import period
from bot.digests.output import (
    Chart,
    DigestOutput,
    DigestRequest,
    context,
    facts,
    header,
    money,
    period_text,
    plural,
    section,
)
from bot.settings import DigestSettings
from bot.slack.text import Mrkdwn, escape, lit
from bot.store.db import Database
from bot.store.incidents import Incident
from bot.store.llm import LLMUsage
from bot.store.models import aware


@dataclass(frozen=True)
class RoiInputs:
    baseline_mttr_minutes: float
    hourly_rate_usd: float
    engineers_per_incident: float
    outage_cost_per_hour_usd: float
    infrastructure_monthly_usd: float

    @classmethod
    def from_settings(cls, settings: DigestSettings) -> RoiInputs:
        return cls(
            baseline_mttr_minutes=settings.roi_baseline_mttr_minutes,
            hourly_rate_usd=settings.roi_hourly_rate_usd,
            engineers_per_incident=settings.roi_engineers_per_incident,
            outage_cost_per_hour_usd=settings.roi_outage_cost_per_hour_usd,
            infrastructure_monthly_usd=settings.roi_infrastructure_monthly_usd,
        )


@dataclass(frozen=True)
class Roi:
    incidents: int
    mttr_minutes: float | None
    minutes_saved: float
    hours_saved: float
    engineer_savings: float
    avoided_outage: float
    ai_spend: float
    infrastructure: float

    @property
    def benefit(self) -> float:
        return self.engineer_savings + self.avoided_outage

    @property
    def spend(self) -> float:
        return self.ai_spend + self.infrastructure

    @property
    def net(self) -> float:
        return self.benefit - self.spend

    @property
    def ratio(self) -> float | None:
        return self.net / self.spend if self.spend > 0 else None


def compute_roi(
    resolve_minutes: list[float], ai_spend: float, month_share: float, inputs: RoiInputs
) -> Roi:
    """The formula above. Pure."""
    count = len(resolve_minutes)
    mttr = sum(resolve_minutes) / count if count else None
    saved = max(inputs.baseline_mttr_minutes - mttr, 0.0) if mttr is not None else 0.0
    outage_hours = count * saved / 60
    hours = outage_hours * inputs.engineers_per_incident
    return Roi(
        incidents=count,
        mttr_minutes=mttr,
        minutes_saved=saved,
        hours_saved=hours,
        engineer_savings=hours * inputs.hourly_rate_usd,
        avoided_outage=outage_hours * inputs.outage_cost_per_hour_usd,
        ai_spend=ai_spend,
        infrastructure=inputs.infrastructure_monthly_usd * month_share,
    )


def gather(session: Session, start: datetime, end: datetime) -> tuple[list[float], float]:
    resolved = session.exec(
        select(Incident).where(
            col(Incident.resolved_at).is_not(None),
            col(Incident.resolved_at) >= start,
            col(Incident.resolved_at) < end,
        )
    ).all()
    minutes = [
        (aware(i.resolved_at) - aware(i.opened_at)).total_seconds() / 60
        for i in resolved
        if i.resolved_at is not None
    ]
    spend = session.exec(
        select(LLMUsage.cost_usd).where(col(LLMUsage.at) >= start, col(LLMUsage.at) < end)
    ).all()
    return minutes, float(sum(spend))


def blocks_for(
    roi: Roi, inputs: RoiInputs, start: datetime, end: datetime, zone: str
) -> DigestOutput:
    nothing = roi.incidents == 0
    ratio = "-" if roi.ratio is None or nothing else f"{roi.ratio:.1f}x"
    mttr = "-" if roi.mttr_minutes is None else f"{roi.mttr_minutes:.0f} min"
    text = (
        f"ROI report: net {money(roi.net)} (benefit {money(roi.benefit)}, spend {money(roi.spend)})"
    )
    formula = (
        f"{plural(roi.incidents, 'incident')} x {roi.minutes_saved:.0f} min saved "
        f"(baseline {inputs.baseline_mttr_minutes:.0f} min - MTTR {mttr}) x "
        f"{inputs.engineers_per_incident:g} engineers x {money(inputs.hourly_rate_usd)}/h "
        f"= {money(roi.engineer_savings)}; outage avoided {roi.incidents} x "
        f"{roi.minutes_saved:.0f} min x {money(inputs.outage_cost_per_hour_usd)}/h "
        f"= {money(roi.avoided_outage)}; spend = AI {money(roi.ai_spend)} + infrastructure "
        f"{money(roi.infrastructure)}"
    )
    blocks = [
        header("Monthly ROI report"),
        context(escape(period_text(start, end, zone))),
        facts(
            [
                ("Net value", money(roi.net)),
                ("Return on spend", ratio),
                ("Engineer time saved", f"{roi.hours_saved:.1f} h → {money(roi.engineer_savings)}"),
                ("Avoided outage cost", money(roi.avoided_outage)),
                ("AI spend", money(roi.ai_spend)),
                ("Infrastructure", money(roi.infrastructure)),
                ("Incidents resolved", str(roi.incidents)),
                ("MTTR", f"{mttr} (baseline {inputs.baseline_mttr_minutes:.0f} min)"),
            ]
        ),
        *(
            [
                section(
                    lit(
                        ":information_source: No incident was resolved in this period, so there "
                        "is no benefit to weigh yet: the net value is only what opsbot cost to run."
                    )
                )
            ]
            if nothing
            else []
        ),
        section(Mrkdwn(f"*How it is computed*\n{escape(formula)}")),
        context(lit("Inputs: `OPSBOT_DIGEST_ROI_*` settings.")),
    ]
    return DigestOutput(text=text, blocks=blocks)


def build(db: Database, settings: DigestSettings, request: DigestRequest) -> DigestOutput:
    """The month's report from the store, with the formula's inputs and the time zone from
    the digest settings."""
    start, end = period("cost-monthly", request.now)
    days = calendar.monthrange(start.year, start.month)[1]
    share = (end - start) / timedelta(days=days)
    inputs = RoiInputs.from_settings(settings)
    with db.session() as session:
        minutes, spend = gather(session, start, end)
    roi = compute_roi(minutes, spend, share, inputs)
    output = blocks_for(roi, inputs, start, end, settings.timezone)
    if roi.incidents == 0:
        return output  # nothing resolved: no chart of a benefit that cannot exist yet
    output.charts = [
        Chart(
            "roi.png",
            "Benefits and costs",
            charts.hbar_chart(
                ["engineer time saved", "avoided outage", "AI spend", "infrastructure", "net"],
                [
                    roi.engineer_savings,
                    roi.avoided_outage,
                    roi.ai_spend,
                    roi.infrastructure,
                    roi.net,
                ],
                title="Benefits and costs this period (USD)",
                xlabel="USD",
                highlight=[False, False, True, True, roi.net < 0],
            ),
            "Bar chart of benefits and costs",
        )
    ]
    return output
