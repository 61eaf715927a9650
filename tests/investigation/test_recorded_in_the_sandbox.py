"""A recorded incident loaded into the sandbox's backends is investigated like any incident.

The pack goes in through its documented on-disk shape (Jaeger JSON, JSON-lines logs, CSV
metrics, Kubernetes objects, alerts); the alert is investigated by the normal Investigator,
which reads the windows back through its own tools and names the service whose own
behaviour changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from shutil import copy, copytree

import pytest

from bot.investigation.agent.finding import Finding
from bot.investigation.eval import evaluate, investigating_world, pack_names, play_recorded
from bot.investigation.investigator import Investigator
from bot.investigation.nezha import kube_objects
from bot.investigation.recorded import RecordedPack, Truth, write_pack
from sandbox.scenarios.catalog import SCENARIOS_DIR
from sandbox.world import World
from tests.investigation.builders import pack


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[World, Investigator]]:
    with investigating_world() as started:
        yield started


def _alerting(recorded: RecordedPack) -> RecordedPack:
    """The pack with the alert a user of its entry service would have had."""
    start = datetime.fromtimestamp(recorded.window[0], UTC).isoformat().replace("+00:00", "Z")
    recorded.alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "EntryErrorRateHigh", "service": recorded.entry_service},
            "annotations": {"summary": f"{recorded.entry_service}: errors above the SLO"},
            "startsAt": start,
            "endsAt": "0001-01-01T00:00:00Z",
        }
    ]
    recorded.objects = kube_objects(sorted({s.pod for s in recorded.spans}))
    return recorded


def _investigate(
    sandbox: tuple[World, Investigator], recorded: RecordedPack, tmp_path: Path
) -> Finding:
    world, investigator = sandbox
    write_pack(_alerting(recorded), tmp_path / "pack")
    return play_recorded(world, investigator, tmp_path / "pack").finding


def test_a_recorded_failing_callee_is_named_by_the_incident_investigation(
    sandbox: tuple[World, Investigator], tmp_path: Path
) -> None:
    finding = _investigate(sandbox, pack(failing=True), tmp_path)
    assert finding.suspects[0] == "stock"
    assert "stock" in finding.summary
    assert any(e.link for e in finding.evidence)


def test_a_recorded_cpu_burn_is_read_back_from_prometheus_and_named(
    sandbox: tuple[World, Investigator], tmp_path: Path
) -> None:
    finding = _investigate(sandbox, pack(cpu=True), tmp_path)
    assert finding.suspects[0] == "stock"
    said = [finding.summary, *finding.notes]
    assert any("stock is where this started: its pods' CPU use rose" in s for s in said)


def test_the_finding_carries_the_fault_kind_as_a_field(
    sandbox: tuple[World, Investigator], tmp_path: Path
) -> None:
    finding = _investigate(sandbox, pack(broken=True), tmp_path)
    assert finding.suspects[0] == "stock"
    assert finding.fault_kind == "error"


def test_eval_grades_a_recorded_pack_next_to_scenario_packs_by_its_ground_truth(
    sandbox: tuple[World, Investigator], tmp_path: Path
) -> None:
    folder = tmp_path / "packs"
    write_pack(_alerting(pack(failing=True)), folder / "recorded-failing")
    wrong = _alerting(pack(failing=True))
    wrong.truth = Truth("web", "error")
    write_pack(wrong, folder / "recorded-other-truth")
    copytree(SCENARIOS_DIR / "oom-kill", folder / "oom-kill")
    copy(SCENARIOS_DIR / "shop-cluster.yaml", folder / "shop-cluster.yaml")
    assert pack_names(folder) == ["oom-kill", "recorded-failing", "recorded-other-truth"]
    world, _ = sandbox
    report = evaluate(folder, only=("recorded-failing", "recorded-other-truth"), world=world)
    grades = {p.name: (p.grade_root_cause, p.grade_remediation) for p in report.packs}
    assert grades == {
        "recorded-failing": ("right", "n/a"),
        "recorded-other-truth": ("partly", "n/a"),
    }
    assert report.as_json()["summary"]["packs"] == 2
