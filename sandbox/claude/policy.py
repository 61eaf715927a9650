"""One fixed investigation policy for the scripted model: the same three steps for any
incident, read from the request itself (the alert in the opening message, the tools
offered, the results returned), never from a scenario's expected answer.

1. Broad: the alert's rule (or the active alerts), unhealthy pods, what changed (the change
   timeline, or warning events), the top errors.
2. Narrow on the alert's service: its limits when something was OOM-killed (or its
   Deployment), its rollout history when no change timeline is offered, its call graph (or
   its failing traces), its request rates by code.
3. Submit, citing every tool used, with no proposed action: the policy measures and
   exercises the bot's machinery, it does not diagnose.

It uses whichever tools the request offers, so it runs against a bot with or without the
newer tools (change_timeline, workload_resources, service_graph, alert_rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.claude.recording import RecordedRequest, block_text, content_blocks
from sandbox.claude.script import Reply, ToolCall

LABEL = re.compile(r"^label (\w+)=(\S+)$", re.MULTILINE)
ALERT = re.compile(r"^alert (\S+) \(", re.MULTILINE)


@dataclass(frozen=True)
class Scope:
    """What the policy reads from the opening message: the alert and where it fired."""

    alert: str
    namespace: str
    service: str | None


def scope_of(request: RecordedRequest) -> Scope:
    """The alert's name, namespace and service, from the `label k=v` lines of the opening
    message (the bot writes each alert's labels that way)."""
    messages = request.messages
    opening = block_text(content_blocks(messages[0])) if messages else ""
    labels = dict(LABEL.findall(opening))
    alert = ALERT.search(opening)
    service = labels.get("service") or labels.get("deployment") or labels.get("app")
    return Scope(alert.group(1) if alert else "", labels.get("namespace", "prod"), service)


def broad(request: RecordedRequest) -> Reply:
    """First step: the alert's definition, unhealthy pods, what changed, the top errors."""
    offered, scope = set(request.tool_names), scope_of(request)
    calls = [
        ToolCall("alert_rule", {"name": scope.alert})
        if "alert_rule" in offered and scope.alert
        else ToolCall("prometheus_alerts", {}),
        ToolCall("k8s_pods", {"namespace": scope.namespace, "only_unhealthy": True}),
        ToolCall("change_timeline", {"namespace": scope.namespace, "lookback": "2h"})
        if "change_timeline" in offered
        else ToolCall("k8s_events", {"namespace": scope.namespace, "warnings_only": True}),
        ToolCall("log_top_errors", {"lookback": "2h"}),
    ]
    return Reply(
        text="Looking at the alert, unhealthy pods, changes and errors.", tool_calls=tuple(calls)
    )


def narrow(request: RecordedRequest) -> Reply:
    """Second step: the service's limits or rollout, its traces and its request rates."""
    offered, scope = set(request.tool_names), scope_of(request)
    service = scope.service or "checkout"
    seen = " ".join(str(b.get("content")) for b in request.tool_results())
    calls: list[ToolCall] = []
    if "OOMKilled" in seen:
        calls.append(
            ToolCall("workload_resources", {"namespace": scope.namespace, "workload": service})
            if "workload_resources" in offered
            else ToolCall("k8s_deployment", {"namespace": scope.namespace, "name": service})
        )
    elif "change_timeline" not in offered:
        calls.append(ToolCall("k8s_deployment", {"namespace": scope.namespace, "name": service}))
    calls.append(
        ToolCall("service_graph", {"service": service, "lookback": "1h"})
        if "service_graph" in offered
        else ToolCall(
            "jaeger_find_traces", {"service": service, "errors_only": True, "lookback": "1h"}
        )
    )
    selector = f'namespace="{scope.namespace}",service="{service}"'
    rate = f"sum by (code) (rate(http_requests_total{{{selector}}}[5m]))"
    calls.append(ToolCall("prometheus_range_query", {"query": rate, "lookback": "2h"}))
    return Reply(text=f"Narrowing on {service}.", tool_calls=tuple(calls))


def conclude(request: RecordedRequest) -> Reply:
    """Third step: submit what was looked at (the bench measures cost, not correctness)."""
    scope = scope_of(request)
    used = sorted(
        {
            str(block.get("name"))
            for message in request.messages
            if message.get("role") == "assistant"
            for block in content_blocks(message)
            if block.get("type") == "tool_use"
        }
    )
    finding = {
        "summary": f"{scope.alert} in {scope.namespace}/{scope.service or '-'}: see the evidence.",
        "root_cause": "Determined from the tool results cited.",
        "confidence": 0.6,
        "evidence": used,
        "ruled_out": ["node pressure"],
    }
    return Reply(tool_calls=(ToolCall("submit_finding", finding),))


POLICY: list[Callable[[RecordedRequest], Reply]] = [broad, narrow, conclude]
