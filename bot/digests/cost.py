"""AI cost reports from the model-call ledger (`llm_usage`), daily and monthly.

* daily: the 24 hours before the run; monthly: the calendar month (UTC) of the day before
  the run, so the report on the 1st covers the month just ended, and one run mid-month
  covers the month so far;
* tokens and spend by model and by workflow, prompt-cache hit rate (cache reads over all
  input tokens), cost per incident (incident-linked spend over the incidents it served),
  the daily and monthly budgets used, and the spend projected to the month's end.
Chart: spend per day by model.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.digests import charts
from bot.digests.output import (
    Chart,
    DigestOutput,
    DigestRequest,
    bullet_list,
    context,
    divider,
    facts,
    header,
    money,
    period_text,
    plural,
    section,
    utc,
)
from bot.settings import LLMSettings
from bot.slack.text import Mrkdwn, code, escape
from bot.store.db import Database
from bot.store.llm import LLMUsage
from bot.store.models import aware


@dataclass
class Totals:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, row: LLMUsage) -> None:
        self.calls += 1
        self.input_tokens += row.input_tokens
        self.output_tokens += row.output_tokens
        self.cache_write_tokens += row.cache_creation_tokens
        self.cache_read_tokens += row.cache_read_tokens
        self.cost_usd += row.cost_usd

    @property
    def cache_hit_rate(self) -> float | None:
        prompt = self.input_tokens + self.cache_write_tokens + self.cache_read_tokens
        return self.cache_read_tokens / prompt if prompt else None


@dataclass
class CostStats:
    monthly: bool
    start: datetime
    end: datetime
    total: Totals = field(default_factory=Totals)
    by_model: dict[str, Totals] = field(default_factory=lambda: defaultdict(Totals))
    by_workflow: dict[str, Totals] = field(default_factory=lambda: defaultdict(Totals))
    per_day: dict[str, dict[str, float]] = field(default_factory=dict)  # day -> model -> $
    incident_cost: float = 0.0
    incidents: int = 0
    today_usd: float = 0.0
    month_usd: float = 0.0
    projected_month_usd: float = 0.0

    @property
    def cost_per_incident(self) -> float | None:
        return self.incident_cost / self.incidents if self.incidents else None


def period(name: str, now: datetime) -> tuple[datetime, datetime]:
    end = utc(now)
    if name != "cost-monthly":
        return end - timedelta(days=1), end
    month = (end - timedelta(days=1)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days = calendar.monthrange(month.year, month.month)[1]
    return month, min(month + timedelta(days=days), end)


def _spent(session: Session, start: datetime, end: datetime) -> float:
    rows = session.exec(
        select(LLMUsage.cost_usd).where(col(LLMUsage.at) >= start, col(LLMUsage.at) < end)
    ).all()
    return float(sum(rows))


def gather(session: Session, name: str, now: datetime) -> CostStats:
    start, end = period(name, now)
    stats = CostStats(monthly=name == "cost-monthly", start=start, end=end)
    rows = session.exec(
        select(LLMUsage).where(col(LLMUsage.at) >= start, col(LLMUsage.at) < end)
    ).all()
    incidents: set[int] = set()
    days: dict[str, dict[str, float]] = {key: defaultdict(float) for key in buckets(stats)}
    for row in rows:
        stats.total.add(row)
        stats.by_model[row.model].add(row)
        stats.by_workflow[row.workflow].add(row)
        at = aware(row.at)
        key = f"{at:%m-%d}" if stats.monthly else f"{at:%d} {at:%H}h"
        days.setdefault(key, defaultdict(float))[row.model] += row.cost_usd
        if row.incident_id is not None:
            incidents.add(row.incident_id)
            stats.incident_cost += row.cost_usd
    stats.incidents = len(incidents)
    stats.per_day = {key: dict(values) for key, values in days.items()}
    moment = end if stats.monthly else utc(now)
    month_start = start if stats.monthly else moment.replace(day=1, hour=0, minute=0, second=0)
    month_start = month_start.replace(microsecond=0)
    day_start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    stats.today_usd = _spent(session, day_start, moment)
    stats.month_usd = _spent(session, month_start, moment)
    days_in_month = calendar.monthrange(month_start.year, month_start.month)[1]
    elapsed = max((moment - month_start).total_seconds() / 86400, 1 / 24)
    stats.projected_month_usd = stats.month_usd / elapsed * days_in_month
    return stats


def buckets(stats: CostStats) -> list[str]:
    """Every day of the period (monthly) or every hour of the 24 (daily), oldest first."""
    if stats.monthly:
        count = (stats.end - stats.start).days + ((stats.end - stats.start).seconds > 0)
        return [f"{stats.start + timedelta(days=n):%m-%d}" for n in range(count)]
    first = stats.start.replace(minute=0, second=0, microsecond=0)
    hours = [first + timedelta(hours=n) for n in range(25)]
    return [f"{hour:%d} {hour:%H}h" for hour in hours if hour < stats.end]


def _budget(spent: float, limit: float | None) -> str:
    if limit is None:
        return f"{money(spent)} (no budget)"
    share = spent / limit if limit > 0 else 1.0
    return f"{money(spent)} of {money(limit)} ({share:.0%})"


def no_calls_reason(calls: int, llm_enabled: bool) -> str:
    """Why a cost report shows $0, in words ("" when there were model calls)."""
    if calls:
        return ""
    if not llm_enabled:
        return (
            "No model calls: no Anthropic API key is configured, so the pattern engine "
            "answered every investigation (it costs nothing)."
        )
    return "No model calls in this period: nothing needed Claude (or every answer was cached)."


def blocks_for(
    stats: CostStats,
    daily_budget: float | None,
    monthly_budget: float | None,
    zone: str,
    llm_enabled: bool = True,
) -> DigestOutput:
    total = stats.total
    hit = total.cache_hit_rate
    per_incident = stats.cost_per_incident
    title = "Monthly AI cost report" if stats.monthly else "Daily AI cost report"
    models = [
        Mrkdwn(
            f"{code(model)}: {money(t.cost_usd)} · {plural(t.calls, 'call')} · "
            f"{t.input_tokens + t.cache_write_tokens + t.cache_read_tokens:,} in / "
            f"{t.output_tokens:,} out tokens"
        )
        for model, t in sorted(stats.by_model.items(), key=lambda kv: -kv[1].cost_usd)
    ]
    workflows = [
        Mrkdwn(f"{code(flow)}: {money(t.cost_usd)} · {plural(t.calls, 'call')}")
        for flow, t in sorted(stats.by_workflow.items(), key=lambda kv: -kv[1].cost_usd)
    ]
    text = f"{title}: {money(total.cost_usd)} over {plural(total.calls, 'model call')}"
    why_empty = no_calls_reason(total.calls, llm_enabled)
    blocks = [
        header(title),
        context(escape(period_text(stats.start, stats.end, zone))),
        *([section(Mrkdwn(f":information_source: {escape(why_empty)}"))] if why_empty else []),
        facts(
            [
                ("Spend", money(total.cost_usd)),
                ("Model calls", str(total.calls)),
                (
                    "Tokens (in / out)",
                    f"{total.input_tokens + total.cache_write_tokens + total.cache_read_tokens:,}"
                    f" / {total.output_tokens:,}",
                ),
                ("Prompt-cache hit rate", "-" if hit is None else f"{hit:.0%}"),
                (
                    "Cost per incident",
                    "-"
                    if per_incident is None
                    else f"{money(per_incident)} ({stats.incidents} incidents)",
                ),
                *(
                    [("Budget used", _budget(stats.month_usd, monthly_budget))]
                    if stats.monthly
                    else [
                        ("Budget used today", _budget(stats.today_usd, daily_budget)),
                        ("Budget used this month", _budget(stats.month_usd, monthly_budget)),
                    ]
                ),
                ("Projected month end", money(stats.projected_month_usd)),
            ]
        ),
        divider(),
        section(Mrkdwn("*By model*\n" + bullet_list(models, "no model calls"))),
        section(Mrkdwn("*By workflow*\n" + bullet_list(workflows, "no model calls"))),
    ]
    return DigestOutput(text=text, blocks=blocks)


def build(db: Database, llm: LLMSettings, zone: str, request: DigestRequest) -> DigestOutput:
    """The daily or monthly report (`request.name`) from the model-call ledger, against the
    budgets in `llm`, in the digests' time zone."""
    with db.session() as session:
        stats = gather(session, request.name, request.now)
    output = blocks_for(stats, llm.daily_budget_usd, llm.monthly_budget_usd, zone, llm.enabled)
    if not stats.total.calls:
        return output  # no chart of nothing: the message says why
    models = sorted(stats.by_model, key=lambda m: -stats.by_model[m].cost_usd)
    labels = list(stats.per_day)
    series = {m: [stats.per_day.get(day, {}).get(m, 0.0) for day in labels] for m in models}
    unit = "day" if stats.monthly else "hour (UTC, day hour)"
    output.charts = [
        Chart(
            "spend-by-model.png",
            "Spend by model",
            charts.bar_chart(
                labels,
                series,
                title=f"AI spend per {unit} by model (USD)",
                ylabel="USD",
                stacked=True,
            ),
            "Stacked bar chart of AI spend by model",
        )
    ]
    return output
