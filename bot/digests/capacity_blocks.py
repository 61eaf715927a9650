"""Block Kit of a capacity report (pure): what runs out soon, the top savings, what is idle
or left behind, and what could not be analysed. Used by the weekly digest and
`/opsbot capacity`."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.capacity import summary
from bot.capacity.models import CapacityReport, Exhaustion
from bot.capacity.rightsizing import LIMIT_RULE
from bot.capacity.verdicts import VERDICT_RULE
from bot.digests.output import bullet_list, context, divider, facts, header, section
from bot.slack.text import Mrkdwn, code, escape

TOP_EXHAUSTIONS = 5
TOP_SAVINGS = 8
TOP_IDLE = 8


def _when(item: Exhaustion, now: datetime) -> str:
    if item.days_likely is None:
        return summary.when_full(item, now)
    return f"full in *~{summary.days(item.days_likely)}* ({summary.interval_text(item, now)})"


def exhaustion_lines(report: CapacityReport, limit: int | None = None) -> list[Mrkdwn]:
    """One line per resource that runs out, soonest first."""
    now = report.generated_at
    lines: list[Mrkdwn] = []
    for item in summary.soonest(report)[:limit]:
        forecast = item.forecast
        capacity = (
            summary.amount(forecast.capacity, forecast.resource.metric)
            if forecast.capacity is not None
            else "no limit"
        )
        used = summary.amount(forecast.used_now, forecast.resource.metric)
        lines.append(
            Mrkdwn(
                f"*{escape(summary.resource_name(item.resource))}*: {_when(item, now)} · "
                f"capacity {escape(capacity)}, {escape(used)} used now · {escape(item.severity)}"
            )
        )
    return lines


def saving_lines(report: CapacityReport, limit: int | None = None) -> list[Mrkdwn]:
    """One line per over-provisioned workload, largest saving first."""
    return [
        Mrkdwn(
            f"*{escape(summary.workload_name(item))}*: "
            f"{escape(summary.rightsizing_change(item))} · "
            f"*{summary.money(item.saving_usd_month)}/month*"
        )
        for item in summary.savings(report)[:limit]
    ]


def idle_lines(report: CapacityReport, limit: int | None = None) -> list[Mrkdwn]:
    """One line per idle or left-behind resource, costliest first."""
    ordered = sorted(report.idle, key=lambda i: (-i.monthly_cost_usd, i.namespace, i.name))
    return [escape(summary.idle_line(item)) for item in ordered[:limit]]


def capacity_blocks(report: CapacityReport, title: str = "Capacity and cost") -> list[Block]:
    scope = f"namespace {code(report.namespace)}" if report.namespace else "all namespaces"
    saving = summary.rightsizing_total(report)
    idle_cost = summary.idle_total(report)
    blocks: list[Block] = [
        header(title),
        context(Mrkdwn(f"{scope} · generated {report.generated_at:%a %d %b %Y %H:%M} UTC")),
        facts(
            [
                ("Runs out within the horizon", str(len(report.exhaustions))),
                ("Forecasts", str(len(report.forecasts))),
                ("Possible savings", summary.savings_text(report)),
                ("Idle or left behind", str(len(report.idle))),
            ]
        ),
        divider(),
        section(
            Mrkdwn(
                "*Runs out soon*\n"
                + bullet_list(
                    exhaustion_lines(report),
                    "nothing runs out within the forecast horizon",
                    TOP_EXHAUSTIONS,
                )
            )
        ),
        section(
            Mrkdwn(
                "*Top savings* (rightsizing requests to p95 usage plus headroom)\n"
                + bullet_list(saving_lines(report), "no over-provisioned workload", TOP_SAVINGS)
                + f"\nRightsizing total: *{summary.money(saving)}/month*"
                + (
                    f" (the {summary.money(saving + idle_cost)} above adds the idle resources' "
                    f"{summary.money(idle_cost)})"
                    if idle_cost and saving
                    else ""
                )
            )
        ),
    ]
    short = summary.undersized(report)
    if short:
        lines = [
            Mrkdwn(f"{escape(summary.workload_name(r))}: {escape(summary.rightsizing_change(r))}")
            for r in short
        ]
        needs = bullet_list(lines, "", 5)
        blocks.append(section(Mrkdwn(f"*Needs more than it requests*\n{needs}")))
    idle_total = f"\nIdle total: *{summary.money(idle_cost)}/month*" if idle_cost else ""
    blocks.append(
        section(
            Mrkdwn(
                "*Idle and left behind*\n"
                + bullet_list(idle_lines(report), "nothing idle or left behind", TOP_IDLE)
                + idle_total
            )
        )
    )
    if report.skipped:
        skipped = "; ".join(escape(s) for s in report.skipped[:10])
        blocks.append(context(Mrkdwn(f"Could not analyse: {skipped}")))
    blocks.append(context(escape(f"{VERDICT_RULE} {LIMIT_RULE}")))
    return blocks
