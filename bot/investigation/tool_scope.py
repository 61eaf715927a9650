"""Which tools each workflow offers the model. Every tool schema is sent (and paid for) on
every model call, so a request carries only the tools its workflow can use: an incident
does not need rightsizing, a log question needs only the log tools, a capacity question
needs the forecasts and the metrics behind them. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from bot.investigation.agent.request import InvestigationRequest, Workflow
from bot.investigation.capacity_questions import capacity_question


class ToolScope(StrEnum):
    INCIDENT = "incident"
    ASK = "ask"
    LOGS = "logs"
    CAPACITY = "capacity"


LOG_TOOLS = ("log_search", "log_top_errors", "log_error_histogram")
# What an investigation reads: health, changes, errors, traces. Discovery of names is left
# to prometheus_label_values (prometheus_series and jaeger_services repeat it); an
# incident's alerts come with it and alert_rule explains them (prometheus_alerts repeats
# them); change_timeline gives the namespace's warnings and node events in time order
# (k8s_events repeats them); capacity reports other than the forecast (a disk filling up)
# are not incident material.
INVESTIGATION_TOOLS = (
    "alert_rule",
    "prometheus_query",
    "prometheus_range_query",
    "prometheus_label_values",
    *LOG_TOOLS,
    "jaeger_find_traces",
    "jaeger_get_trace",
    "service_graph",
    "change_timeline",
    "k8s_pods",
    "k8s_pod_logs",
    "k8s_deployment",
    "workload_resources",
    "workload_config",
    "k8s_service_clients",
    "k8s_nodes",
    "k8s_volume_claims",
    "k8s_jobs",
    "capacity_forecast",
)
CAPACITY_TOOLS = (
    "capacity_forecast",
    "capacity_rightsizing",
    "capacity_idle",
    "prometheus_query",
    "prometheus_range_query",
    "prometheus_label_values",
    "workload_resources",
    "k8s_volume_claims",
    "k8s_nodes",
)
SCOPES: dict[ToolScope, tuple[str, ...]] = {
    ToolScope.INCIDENT: INVESTIGATION_TOOLS,
    # a free question may be about anything an incident touches, and may name a service
    # the model has to look up first
    ToolScope.ASK: (
        *INVESTIGATION_TOOLS,
        "prometheus_alerts",
        "prometheus_series",
        "jaeger_services",
        "k8s_events",
    ),
    ToolScope.LOGS: LOG_TOOLS,
    ToolScope.CAPACITY: CAPACITY_TOOLS,
}


def scope_of(request: InvestigationRequest) -> ToolScope:
    """The workflow as the tools see it: a log question, a capacity question (asked, not
    an incident), any other question, or an incident (escalations included)."""
    if request.workflow is Workflow.LOG_QUERY:
        return ToolScope.LOGS
    if request.incident_id is None and capacity_question(request.question) is not None:
        return ToolScope.CAPACITY
    if request.workflow is Workflow.ASK:
        return ToolScope.ASK
    return ToolScope.INCIDENT


def tools_in_scope(scope: ToolScope, available: Sequence[str]) -> list[str]:
    """The available tools the scope may use, in the toolbox's order."""
    wanted = set(SCOPES[scope])
    return [name for name in available if name in wanted]
