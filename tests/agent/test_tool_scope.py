"""Each workflow sends the model only the tools it can use: the request the Claude stand-in
receives is read back, and the schemas' size is counted with the SDK's token counting
against the stand-in (its estimate: four characters a token)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic

from bot.investigation.agent.request import InvestigationRequest, Workflow
from sandbox.claude import Reply, ToolCall
from tests.agent.conftest import SANDBOX_KEY, Backends, ClaudeServer
from tests.agent.helpers import incident, investigator, question, settings_for

FINDING = {"summary": "s", "root_cause": "r", "confidence": 0.5, "evidence": []}


def offered(
    claude: ClaudeServer, backends: Backends, tmp_path: Path, request: InvestigationRequest
) -> list[dict[str, Any]]:
    """The `tools` of the first model call made for `request`."""
    name = f"scope-{request.workflow.value}-{request.question[:12]}-{request.incident_id}"
    claude.sandbox.script(
        name, [Reply(tool_calls=(ToolCall("submit_finding", FINDING, id="toolu_s"),))]
    )
    settings = settings_for(
        tmp_path / f"{len(name)}.sqlite",
        kubeconfig=backends.kubeconfig,
        prometheus=backends.prometheus,
        logs=backends.logs,
        jaeger=backends.jaeger,
        claude=claude.url,
        answer_cache_seconds=0,
    )
    with investigator(settings) as (inv, _):
        inv.investigate(request)
    first = next(r for r in claude.sandbox.requests if r.script == name)
    assert first.body is not None
    return list(first.body["tools"])


def names(tools: list[dict[str, Any]]) -> set[str]:
    return {tool["name"] for tool in tools}


def test_each_workflow_sends_only_the_tools_it_can_use(
    claude: ClaudeServer, backends: Backends, tmp_path: Path
) -> None:
    incident_tools = names(offered(claude, backends, tmp_path, incident("prod", "payments")))
    ask_tools = names(
        offered(claude, backends, tmp_path, question("why is checkout slow since noon?"))
    )
    log_tools = names(
        offered(claude, backends, tmp_path, question("errors of orders today", Workflow.LOG_QUERY))
    )
    capacity_tools = names(
        offered(claude, backends, tmp_path, question("which services are over-provisioned?"))
    )
    new_tools = {
        "change_timeline", "workload_resources", "workload_config", "service_graph", "alert_rule"
    }  # fmt: skip
    assert new_tools <= incident_tools
    repeated = {"jaeger_services", "prometheus_series", "prometheus_alerts", "k8s_events"}
    assert not incident_tools & {"capacity_rightsizing", "capacity_idle", *repeated}
    assert incident_tools < ask_tools
    assert repeated <= ask_tools
    assert log_tools == {"log_search", "log_top_errors", "log_error_histogram", "submit_finding"}
    assert {"capacity_forecast", "capacity_rightsizing", "capacity_idle"} <= capacity_tools
    assert not capacity_tools & {"log_search", "jaeger_find_traces", "k8s_pod_logs"}


def test_the_scoped_tool_schemas_cost_fewer_tokens_than_every_tool(
    claude: ClaudeServer, backends: Backends, tmp_path: Path
) -> None:
    scoped = offered(claude, backends, tmp_path, incident("prod", "checkout", incident_id=8))
    everything = offered(
        claude, backends, tmp_path, question("why is checkout slow since noon?")
    ) + [
        tool
        for tool in offered(claude, backends, tmp_path, question("which pods are idle?"))
        if tool["name"].startswith("capacity_")
    ]
    unique = list({tool["name"]: tool for tool in everything}.values())
    client = anthropic.Anthropic(api_key=SANDBOX_KEY, base_url=claude.url, max_retries=0)
    opening = [{"role": "user", "content": "x"}]

    def tokens(tools: list[dict[str, Any]]) -> int:
        counted = client.messages.count_tokens(
            model="claude-sonnet-4-5",
            messages=opening,  # type: ignore[arg-type]
            tools=[{k: v for k, v in t.items() if k != "cache_control"} for t in tools],  # type: ignore[misc]
        )
        return counted.input_tokens

    assert len(scoped) < len(unique)
    assert tokens(scoped) < tokens(unique)
    client.close()
