"""The sandbox's incident scenarios through the Claude agent: a scripted model follows a
realistic tool path (pods and alerts, then the scenario's own evidence queries, then
submit_finding) against the real backends each scenario loads; the bot must turn its answer
into the expected remediation, with code — not the model — deciding what is valid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.investigation.agent.finding import Engine
from bot.investigation.agent.request import AlertContext
from sandbox.claude import Reply, ToolCall
from sandbox.scenarios import scenario_names
from sandbox.scenarios.spec import Remediation
from sandbox.world import LoadedScenario, World, WorldOptions
from tests.agent.conftest import ClaudeServer
from tests.agent.helpers import investigator, settings_for
from tests.agent.test_agent_scenarios import request_for, target_text
from tests.scenarios.pack_params import pack_params


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with World(WorldOptions(slack=None, history=4 * 3600)).start() as started:
        yield started


def proposal(remediation: Remediation) -> dict[str, Any]:
    target = {"name": remediation.target.name}
    if remediation.target.namespace:
        target["namespace"] = remediation.target.namespace
    params = dict(remediation.params)
    if "size" in params:  # the scenario names it the way people say it
        params["new_size"] = params.pop("size")
    return {
        "kind": str(remediation.kind),
        "target": target,
        "params": params,
        "reason": remediation.why or "the scenario's fix",
    }


def script(loaded: LoadedScenario) -> list[Reply]:
    expected = loaded.scenario.expected
    first = [
        ToolCall("prometheus_alerts", {}, id="toolu_alerts"),
        ToolCall("k8s_pods", {"namespace": "prod", "only_unhealthy": True}, id="toolu_pods"),
        ToolCall("k8s_nodes", {"only_problems": True}, id="toolu_nodes"),
    ]
    evidence = [
        ToolCall("prometheus_query", {"query": check.query}, id=f"toolu_metric_{n}")
        for n, check in enumerate(expected.evidence.metrics)
    ] or [ToolCall("k8s_events", {"namespace": "prod", "warnings_only": True}, id="toolu_ev")]
    target = expected.remediation.target
    if target.kind == "deployment":  # a model checks the workload before proposing a change
        evidence.append(
            ToolCall(
                "k8s_deployment",
                {"name": target.name, "namespace": target.namespace or "prod"},
                id="toolu_deploy",
            )
        )
    finding = {
        "summary": expected.root_cause.summary.strip()[:400],
        "root_cause": expected.root_cause.summary.strip(),
        "confidence": 0.85,
        "evidence": [c.id for c in first + evidence if c.id],
        "proposed_actions": [proposal(expected.remediation)],
    }
    return [
        Reply(text="Looking at alerts, unhealthy pods and nodes.", tool_calls=tuple(first)),
        Reply(text="Checking the signals that moved.", tool_calls=tuple(evidence)),
        Reply(tool_calls=(ToolCall("submit_finding", finding, id="toolu_submit"),)),
    ]


@pytest.mark.parametrize("name", pack_params(scenario_names()))
def test_the_claude_agent_finds_each_scenarios_expected_remediation(
    world: World, claude: ClaudeServer, name: str, tmp_path: Path
) -> None:
    loaded = world.load(name)
    claude.sandbox.script(f"scenario-{name}", script(loaded))
    alerts = [
        AlertContext(a.name, "firing", a.active_since, dict(a.labels), dict(a.annotations))
        for a in loaded.alerts
    ]
    urls = world.urls
    settings = settings_for(
        tmp_path / "db.sqlite",
        kubeconfig=Path(urls.kubeconfig),
        prometheus=urls.prometheus,
        logs=urls.opensearch,
        jaeger=urls.jaeger,
        claude=claude.url,
    )
    with investigator(settings) as (inv, _):
        answer = inv.investigate(request_for(alerts))
    assert answer.engine is Engine.CLAUDE, answer.fallback_reason
    got = [(p.kind.value, str(p.target)) for p in answer.finding.proposals]
    wanted = loaded.scenario.expected.remediation
    assert (str(wanted.kind), target_text(wanted.target)) in got, (
        f"{name}: {got} notes={answer.finding.notes}"
    )
    assert answer.usage.calls == 3
    assert answer.usage.cost_usd > 0
    print(
        name,
        answer.usage.input_tokens,
        answer.usage.cache_read_tokens,
        answer.usage.output_tokens,
        f"${answer.usage.cost_usd:.4f}",
    )
