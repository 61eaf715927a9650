"""Block Kit of a capacity report (pure): what runs out soon, the top savings, what is idle
or left behind, and what could not be analysed. Used by the weekly digest and
`/opsbot capacity`."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.capacity import summary
from bot.capacity.models import CapacityReport, Exhaustion
from bot.digests.output import bullet_list, context, divider, facts, header, section
from bot.slack.blocks import escape

TOP_EXHAUSTIONS = 5
TOP_SAVINGS = 8
TOP_IDLE = 8


def _when(item: Exhaustion, now: datetime) -> str:
    if item.days_likely is None:
        return summary.when_full(item, now)
    return f"full in *~{summary.days(item.days_likely)}* ({summary.interval_text(item, now)})"


def exhaustion_lines(report: CapacityReport, limit: int | None = None) -> list[str]:
    now = report.generated_at
    lines = []
    for item in summary.soonest(report)[:limit]:
        forecast = item.forecast
        capacity = (
            summary.amount(forecast.capacity, forecast.resource.metric)
            if forecast.capacity is not None
            else "no limit"
        )
        lines.append(
            f"*{escape(summary.resource_name(item.resource))}*: {_when(item, now)} · "
            f"capacity {capacity}, {summary.amount(forecast.used_now, forecast.resource.metric)}"
            f" used now · {item.severity}"
        )
    return lines


def saving_lines(report: CapacityReport, limit: int | None = None) -> list[str]:
    return [
        f"*{escape(summary.workload_name(item))}*: {summary.rightsizing_change(item)} · "
        f"*{summary.money(item.saving_usd_month)}/month*"
        for item in summary.savings(report)[:limit]
    ]


def idle_lines(report: CapacityReport, limit: int | None = None) -> list[str]:
    ordered = sorted(report.idle, key=lambda i: (-i.monthly_cost_usd, i.namespace, i.name))
    return [escape(summary.idle_line(item)) for item in ordered[:limit]]


def capacity_blocks(report: CapacityReport, title: str = "Capacity and cost") -> list[Block]:
    scope = f"namespace `{escape(report.namespace)}`" if report.namespace else "all namespaces"
    saving = sum(r.saving_usd_month for r in summary.savings(report))
    idle_cost = sum(i.monthly_cost_usd for i in report.idle)
    blocks: list[Block] = [
        header(title),
        context(f"{scope} · generated {report.generated_at:%a %d %b %Y %H:%M} UTC"),
        facts(
            [
                ("Runs out within the horizon", str(len(report.exhaustions))),
                ("Forecasts", str(len(report.forecasts))),
                ("Possible savings", f"{summary.money(saving + idle_cost)}/month"),
                ("Idle or left behind", str(len(report.idle))),
            ]
        ),
        divider(),
        section(
            "*Runs out soon*\n"
            + bullet_list(
                exhaustion_lines(report),
                "nothing runs out within the forecast horizon",
                TOP_EXHAUSTIONS,
            )
        ),
        section(
            "*Top savings* (rightsizing requests to p95 usage plus headroom)\n"
            + bullet_list(saving_lines(report), "no over-provisioned workload", TOP_SAVINGS)
            + f"\nTotal: *{summary.money(saving)}/month*"
        ),
    ]
    short = summary.undersized(report)
    if short:
        lines = [
            f"{escape(summary.workload_name(r))}: {summary.rightsizing_change(r)}" for r in short
        ]
        blocks.append(section("*Needs more than it requests*\n" + bullet_list(lines, "", 5)))
    blocks.append(
        section(
            "*Idle and left behind*\n"
            + bullet_list(idle_lines(report), "nothing idle or left behind", TOP_IDLE)
        )
    )
    if report.skipped:
        blocks.append(
            context("Could not analyse: " + "; ".join(escape(s) for s in report.skipped[:10]))
        )
    return blocks
