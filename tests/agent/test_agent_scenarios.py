"""The sandbox's incident scenarios: the pattern engine must name the expected remediation
(its action kind and target) from the real backends each scenario loads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.investigation.agent.request import AlertContext, InvestigationRequest, Workflow
from sandbox.scenarios import load_scenario, scenario_names
from sandbox.scenarios.healthy import healthy_scenario
from sandbox.world import World, WorldOptions
from tests.agent.helpers import investigator, settings_for
from tests.scenarios.pack_params import pack_params


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with World(WorldOptions(slack=None, history=4 * 3600)).start() as started:
        yield started


def request_for(alerts: list[AlertContext]) -> InvestigationRequest:
    labels = alerts[0].labels if alerts else {}
    return InvestigationRequest(
        workflow=Workflow.INCIDENT,
        question="",
        now=datetime.now(UTC),
        incident_id=1,
        title=alerts[0].name if alerts else "incident",
        namespace=labels.get("namespace"),
        service=labels.get("service") or labels.get("deployment"),
        alerts=tuple(alerts),
    )


# capacity packs: the bot's forecast scan opens their incident (their one alert is a side
# story); tests/scenarios/test_capacity_scenario_pack.py covers them
INCIDENT_SCENARIOS = [n for n in scenario_names() if not load_scenario(n).spec.capacity_history]


@pytest.mark.parametrize("name", pack_params(INCIDENT_SCENARIOS))
def test_the_pattern_engine_finds_each_scenarios_expected_remediation(
    world: World, name: str, tmp_path: Path
) -> None:
    loaded = world.load(name)
    expected = loaded.scenario.expected
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
    )
    with investigator(settings) as (inv, _):
        finding = inv.investigate(request_for(alerts)).finding
    wanted = [expected.remediation, *expected.also_acceptable]
    got = [(p.kind.value, str(p.target)) for p in finding.proposals]
    print(name, finding.rule, finding.confidence, got, finding.summary)
    assert any((str(w.kind), target_text(w.target)) in got for w in wanted), (
        f"{name}: {finding.rule} {got} {finding.summary}"
    )


def target_text(target: Any) -> str:
    """As policies.ResourceRef prints it: kind/namespace/name, or kind/name for nodes."""
    parts = [target.kind, target.namespace, target.name]
    return "/".join(str(p) for p in parts if p)


def question(text: str) -> InvestigationRequest:
    """A /ask-ai question, in the namespace the bot is configured for (as `opsbot dev` is)."""
    return InvestigationRequest(
        workflow=Workflow.ASK, question=text, now=datetime.now(UTC), namespace="prod"
    )


def test_in_a_healthy_world_a_why_is_it_slow_question_is_answered_that_it_is_not_with_figures(
    world: World, tmp_path: Path
) -> None:
    world.load(healthy_scenario())
    urls = world.urls
    settings = settings_for(
        tmp_path / "db.sqlite",
        kubeconfig=Path(urls.kubeconfig),
        prometheus=urls.prometheus,
        logs=urls.opensearch,
        jaeger=urls.jaeger,
    )
    with investigator(settings) as (inv, _):
        slow = inv.investigate(question("why is checkout slow?")).finding
        failing = inv.investigate(question("is payments failing?")).finding
        database = inv.investigate(question("is the database ok?")).finding
    assert slow.summary.startswith("checkout is not slow now: p95 "), slow.summary
    assert "ms over the 20 newest traces of the last hour, 0 with errors" in slow.summary
    assert "% of requests failing now" in slow.summary
    assert slow.rule is None, "no failure pattern is blamed"
    assert not slow.proposals
    assert "frontend" not in slow.summary + slow.root_cause, "everyday errors are not a cause"
    assert slow.root_cause.startswith("Nothing found wrong")
    assert failing.summary.startswith("payments is not failing now: "), failing.summary
    assert failing.rule is None
    # a role, not a name: the workload running the database image, with its pods' figures
    assert database.summary.startswith("postgres looks healthy now: "), database.summary
    assert "1/1 pod ready, 0 restarts" in database.summary
    assert database.rule is None
    # its evidence is the database's own pods and lines, not the namespace's first pod
    pods = [e for e in database.evidence if e.tool == "k8s_pods"]
    assert pods, [e.tool for e in database.evidence]
    assert all("postgres" in e.query and "checkout" not in e.excerpt for e in pods), pods
