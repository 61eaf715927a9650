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
