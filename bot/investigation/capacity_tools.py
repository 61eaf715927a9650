"""Capacity as tools the Claude agent can call: forecasts ("when is X full?"), rightsizing
("what is over-provisioned?") and idle resources. They read the same cached report as the
digest and `/opsbot capacity`, so they live on the bot side (tools/ may not import bot) and
are registered into the investigator's toolbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field

from bot.capacity import summary
from bot.capacity.models import CapacityReport
from bot.capacity.resolve import exhaustion_of, resolve
from tools.base import Evidence, Tool, ToolArgs, ToolResult
from tools.toolbox import Toolbox

ReportSource = Callable[[str | None], CapacityReport]
DEFAULT_LIMIT = 10
MAX_LIMIT = 30


class ScopeArgs(ToolArgs):
    namespace: str | None = Field(
        None, max_length=63, description="Only this Kubernetes namespace; leave out for all."
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Most items listed.")


class ForecastArgs(ScopeArgs):
    resource: str | None = Field(
        None,
        max_length=200,
        description="What to look up in words or by name, e.g. 'orders database disk', "
        "'postgres-data', 'worker-2 disk'; leave out to list what runs out soonest.",
    )


def _skipped(report: CapacityReport) -> str:
    if not report.skipped:
        return ""
    return "\nCould not analyse: " + "; ".join(report.skipped[:5])


class CapacityTool(Tool[Any]):
    def __init__(self, report_for: ReportSource) -> None:
        self.report_for = report_for

    def caps(self) -> str:
        return f"at most `limit` items (default {DEFAULT_LIMIT}, up to {MAX_LIMIT})"

    def _result(self, report: CapacityReport, query: str, lines: list[str]) -> ToolResult:
        content = "\n".join(lines) + _skipped(report)
        evidence = Evidence(
            tool=self.name, query=query, excerpt=lines[0][:300], observed_at=report.generated_at
        )
        return ToolResult.success(self.name, content, evidence=[evidence])


class CapacityForecastTool(CapacityTool):
    name = "capacity_forecast"
    description = (
        "Capacity forecasts of persistent volumes, node disks and workload memory/CPU from "
        "weeks of Prometheus history: when each runs out (likely day and prediction "
        "interval), how full it is now and how fast it grows. Use it for 'when will X be "
        "full?' questions; pass resource to resolve a name like 'orders database disk'."
    )
    args_model = ForecastArgs

    def execute(self, args: ForecastArgs) -> ToolResult:
        report = self.report_for(args.namespace)
        now = report.generated_at
        lines: list[str] = []
        if args.resource:
            matches = resolve(report, args.resource)
            if not matches:
                lines.append(f"No forecast resource matches {args.resource!r}.")
            for forecast in matches[: args.limit]:
                found = exhaustion_of(report, forecast)
                lines.append(
                    summary.exhaustion_line(found, now)
                    if found is not None
                    else f"{summary.resource_name(forecast.resource)}: does not run out within "
                    f"the horizon; {summary.usage_text(forecast)}"
                )
        soonest = summary.soonest(report)
        lines.append(
            f"Runs out within the horizon ({len(soonest)} of {len(report.forecasts)} forecast):"
            if soonest
            else f"Nothing runs out within the horizon ({len(report.forecasts)} forecasts)."
        )
        lines += [f"- {summary.exhaustion_line(e, now)}" for e in soonest[: args.limit]]
        return self._result(report, f"capacity forecast {args.resource or 'all'}", lines)


class CapacityRightsizingTool(CapacityTool):
    name = "capacity_rightsizing"
    description = (
        "Rightsizing: workloads whose CPU/memory requests are far above their p95 usage "
        "(over-provisioned) or below it, with recommended requests and the monthly saving. "
        "Use it for 'which services are over-provisioned?' or cost questions."
    )
    args_model = ScopeArgs

    def execute(self, args: ScopeArgs) -> ToolResult:
        report = self.report_for(args.namespace)
        items = summary.savings(report)
        total = sum(r.saving_usd_month for r in items)
        lines = [
            f"{len(items)} over-provisioned workloads, saving {summary.money(total)}/month in "
            "total (requests → recommended):"
        ]
        lines += [f"- {summary.rightsizing_line(r)}" for r in items[: args.limit]]
        lines += [
            f"- under-provisioned: {summary.workload_name(r)}: {summary.rightsizing_change(r)}"
            for r in summary.undersized(report)[: args.limit]
        ]
        return self._result(report, "capacity rightsizing", lines)


class CapacityIdleTool(CapacityTool):
    name = "capacity_idle"
    description = (
        "Idle and left-behind resources: workloads without CPU or traffic, unattached "
        "volumes, deployments scaled to zero, old failed jobs, with their monthly cost."
    )
    args_model = ScopeArgs

    def execute(self, args: ScopeArgs) -> ToolResult:
        report = self.report_for(args.namespace)
        cost = sum(i.monthly_cost_usd for i in report.idle)
        lines = [f"{len(report.idle)} idle or left behind, {summary.money(cost)}/month:"]
        lines += [f"- {summary.idle_line(i)}" for i in report.idle[: args.limit]]
        return self._result(report, "capacity idle", lines)


def capacity_tools(report_for: ReportSource) -> list[CapacityTool]:
    return [
        CapacityForecastTool(report_for),
        CapacityRightsizingTool(report_for),
        CapacityIdleTool(report_for),
    ]


def register_capacity_tools(toolbox: Toolbox, report_for: ReportSource) -> None:
    for tool in capacity_tools(report_for):
        if tool.name not in toolbox:
            toolbox.register(tool)
