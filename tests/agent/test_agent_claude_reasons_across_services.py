"""The Claude path can reach the cross-service conclusions the pattern engine reaches: a
scripted model (tests/agent/reasoning_model.py) whose every turn is decided from the tool
results it got (never from a pack's expected answer) finds the caller whose release
multiplies its calls into the alerted service, and the database client in another
namespace whose release hogs the database, through the call graph, the change timeline,
PromQL and k8s_service_clients. The same model, on an incident with neither, blames no one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.investigation.agent.finding import Engine, Investigation
from bot.investigation.agent.request import AlertContext
from bot.investigation.eval import grade
from sandbox.world import World, WorldOptions
from tests.agent.conftest import ClaudeServer
from tests.agent.helpers import investigator, settings_for
from tests.agent.reasoning_model import reason
from tests.agent.test_agent_scenarios import request_for

TURNS = 6


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with World(WorldOptions(slack=None, history=4 * 3600)).start() as started:
        yield started


def investigate(world: World, claude: ClaudeServer, name: str, tmp_path: Path) -> Investigation:
    loaded = world.load(name)
    claude.sandbox.script(f"reasoning-{name}", [reason] * TURNS)
    alerts = [
        AlertContext(a.name, "firing", a.active_since, dict(a.labels), dict(a.annotations))
        for a in sorted(loaded.alerts, key=lambda a: a.fired_at)
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
    return answer


@pytest.mark.parametrize(
    ("name", "culprit"),
    [
        ("cart-quote-fanout-checkout", "deployment/prod/frontend"),
        ("invoice-export-user-hogs-postgres", "deployment/billing/invoice-export"),
    ],
)
def test_a_scripted_model_reading_only_tool_results_rolls_back_the_service_that_brought_the_load(
    world: World, claude: ClaudeServer, name: str, culprit: str, tmp_path: Path
) -> None:
    answer = investigate(world, claude, name, tmp_path)
    finding = answer.finding
    assert [str(p.target) for p in finding.proposals] == [culprit]
    graded = grade(name, answer, 0.0, world.load(name).scenario.expected)
    assert (graded.grade_root_cause, graded.grade_remediation) == ("right", "right")
    assert finding.ruled_out, "the coincident rollout is named and rejected"


def test_the_same_scripted_model_blames_no_one_when_no_load_grew(
    world: World, claude: ClaudeServer, tmp_path: Path
) -> None:
    answer = investigate(world, claude, "oom-kill", tmp_path)
    assert answer.finding.proposals == []
    assert answer.finding.confidence <= 0.3
