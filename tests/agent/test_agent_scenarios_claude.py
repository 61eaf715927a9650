"""The sandbox's incident scenarios through the Claude agent: the scripted model follows one
fixed investigation policy (`sandbox.claude.policy`: broad, narrow, submit), read from the
request alone and never from a pack's expected answer, against the real backends each
scenario loads. Every tool the policy calls must work on every pack's data, the answer
must cite real calls, and later steps must read the cached prompt. Whether the diagnosis is
right is the pattern engine's test and `opsbot eval`'s; how a model's proposals are
validated is tests/agent/test_agent_claude_loop.py's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.investigation.agent.finding import Engine
from bot.investigation.agent.request import AlertContext
from sandbox.claude.policy import POLICY
from sandbox.world import World, WorldOptions
from tests.agent.conftest import ClaudeServer
from tests.agent.helpers import investigator, settings_for
from tests.agent.test_agent_scenarios import INCIDENT_SCENARIOS, request_for
from tests.scenarios.pack_params import pack_params

# what a tool answers when the tool, not the data, is at fault
TOOL_FAULTS = ("Invalid arguments for", "failed unexpectedly", "There is no tool named")


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with World(WorldOptions(slack=None, history=4 * 3600)).start() as started:
        yield started


@pytest.mark.parametrize("name", pack_params(INCIDENT_SCENARIOS))
def test_the_claude_agent_investigates_each_scenario_with_working_tools_and_cited_evidence(
    world: World, claude: ClaudeServer, name: str, tmp_path: Path
) -> None:
    loaded = world.load(name)
    claude.sandbox.script(f"scenario-{name}", list(POLICY))
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
    sent = [r for r in claude.sandbox.requests if r.script == f"scenario-{name}"]
    results = [block for request in sent for block in request.tool_results()]
    assert len(results) >= 6
    faults = [
        str(b["content"])[:300] for b in results if any(f in str(b["content"]) for f in TOOL_FAULTS)
    ]
    assert faults == [], f"{name}: {faults}"
    assert answer.finding.evidence, "the cited tools' queries are the evidence"
    assert not [n for n in answer.finding.notes if "names no tool call" in n]
    assert answer.usage.calls == 3
    assert answer.usage.cache_read_tokens > 0
    assert answer.usage.cost_usd > 0
    print(
        name,
        answer.usage.cache_creation_tokens,
        answer.usage.cache_read_tokens,
        answer.usage.output_tokens,
        f"${answer.usage.cost_usd:.4f}",
    )
