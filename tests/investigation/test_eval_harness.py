"""`opsbot eval`: scenario packs from any folder are played in the sandbox world, investigated
the way an incident is, and graded; the whole shipped set meets the accuracy bar."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.root import cli
from bot.investigation.eval import EvalError, evaluate, pack_names
from sandbox.scenarios import SCENARIOS_DIR
from sandbox.world import World, WorldOptions

# two packs with red herrings (a coincident innocent deploy each); the own-folder test
# plays oom-kill, the slow test every pack
DEFAULT_PACKS = ("dependency-timeout", "undersized-limit")
PACK_SECONDS = 150  # loading one pack into every backend on a busy 2-core machine


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with World(WorldOptions(slack=None, history=2 * 3600)).start() as started:
        yield started


def own_folder(tmp_path: Path, *packs: str) -> Path:
    """Packs copied into a folder of their own, with the cluster file they extend."""
    folder = tmp_path / "my-packs"
    folder.mkdir()
    shutil.copy(SCENARIOS_DIR / "shop-cluster.yaml", folder / "my-cluster.yaml")
    for pack in packs:
        shutil.copytree(SCENARIOS_DIR / pack, folder / pack)
        cluster = folder / pack / "cluster.yaml"
        cluster.write_text(
            cluster.read_text().replace("../shop-cluster.yaml", "../my-cluster.yaml")
        )
    return folder


@pytest.mark.timeout(len(DEFAULT_PACKS) * PACK_SECONDS)
def test_packs_with_red_herrings_get_the_right_cause_and_remediation_and_nothing_harmful(
    world: World,
) -> None:
    report = evaluate(SCENARIOS_DIR, only=DEFAULT_PACKS, world=world)
    rows = {r.name: (r.grade_root_cause, r.grade_remediation) for r in report.packs}
    assert rows == dict.fromkeys(DEFAULT_PACKS, ("right", "right")), [
        (r.name, r.summary, r.root_cause, r.proposals) for r in report.packs
    ]
    assert all(r.engine == "pattern" and r.tokens == 0 for r in report.packs)


@pytest.mark.timeout(PACK_SECONDS)
def test_a_pack_in_a_folder_of_its_own_extending_its_own_cluster_file_is_graded(
    world: World, tmp_path: Path
) -> None:
    folder = own_folder(tmp_path, "oom-kill")
    report = evaluate(folder, world=world)
    document = report.as_json()
    assert set(document) == {"packs", "summary"}
    (row,) = document["packs"]
    assert set(row) == {
        "name", "engine", "summary", "root_cause", "proposals", "confidence",
        "grade_root_cause", "grade_remediation", "seconds", "tokens", "cost_usd",
    }  # fmt: skip
    assert row["name"] == "oom-kill"
    assert all(set(p) == {"kind", "target"} for p in row["proposals"])
    assert "deployment/prod/payments" in {p["target"] for p in row["proposals"]}
    assert document["summary"] == {
        "packs": 1,
        "root_cause_right": int(row["grade_root_cause"] == "right"),
        "remediation_right": int(row["grade_remediation"] == "right"),
        "harmful": int(row["grade_remediation"] == "harmful"),
    }


def test_an_unknown_pack_or_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="no incident pack nope"):
        evaluate(SCENARIOS_DIR, only=("nope",))
    assert pack_names(tmp_path) == []
    with pytest.raises(EvalError, match="no incident packs"):
        evaluate(tmp_path)


def test_the_claude_engine_without_an_api_key_is_refused_before_any_world_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    folder = own_folder(tmp_path, "bad-image")
    result = CliRunner().invoke(cli, ["eval", str(folder), "--engine", "claude"])
    assert result.exit_code == 2
    assert "ANTHROPIC_API_KEY" in result.output


CAPACITY_PACKS = ("hpa-at-max-replicas", "noisy-neighbour-node-cpu")


@pytest.mark.slow
@pytest.mark.timeout(len(CAPACITY_PACKS) * PACK_SECONDS)
def test_an_hpa_at_its_max_and_a_noisy_neighbour_get_capacity_answers_not_restarts(
    world: World,
) -> None:
    report = evaluate(SCENARIOS_DIR, only=CAPACITY_PACKS, world=world)
    rows = {r.name: (r.grade_root_cause, r.grade_remediation) for r in report.packs}
    assert rows == dict.fromkeys(CAPACITY_PACKS, ("right", "right")), [
        (r.name, r.summary, r.proposals) for r in report.packs
    ]
    kinds = {p.kind for r in report.packs for p in r.proposals}
    assert kinds.isdisjoint({"restart_deployment", "rollback_deployment"})


@pytest.mark.slow
@pytest.mark.timeout(2 * PACK_SECONDS)
def test_opsbot_eval_writes_the_json_rows_for_a_folder(tmp_path: Path) -> None:
    folder = own_folder(tmp_path, "bad-image")
    out = tmp_path / "eval.json"
    result = CliRunner().invoke(cli, ["eval", str(folder), "--json", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert document["summary"]["packs"] == 1
    assert "bad-image" in result.output


@pytest.mark.slow
@pytest.mark.timeout(40 * PACK_SECONDS)
def test_every_shipped_pack_meets_the_bar_ninety_percent_right_and_nothing_harmful(
    world: World,
) -> None:
    report = evaluate(SCENARIOS_DIR, world=world)
    total = report.summary()
    shown = [(r.name, r.grade_root_cause, r.grade_remediation, r.summary) for r in report.packs]
    assert total["packs"] >= 20
    assert total["root_cause_right"] >= 0.9 * total["packs"], shown
    assert total["remediation_right"] >= 0.9 * total["packs"], shown
    assert total["harmful"] == 0, shown
