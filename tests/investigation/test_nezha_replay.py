"""Recorded Nezha faults replay end to end and the faulty service comes first.

Three through the fast in-memory localisation; one through the real path (loaded into the
sandbox's backends, its alert investigated by the normal Investigator), marked slow.

These three (08:43 wrong result, 09:25 exception, 09:42 wrong result) are from the half of the
day the localisation was tuned on: they guard against regressions, they do not measure it.
The whole day is ``bench/nezha_replay.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.root import cli

ROOT = Path(__file__).resolve().parents[2]
DATA = next(
    (
        p / "shared" / "data" / "nezha-trainticket"
        for p in (ROOT.parent, ROOT.parent.parent)
        if (p / "shared" / "data" / "nezha-trainticket").exists()
    ),
    None,
)
pytestmark = pytest.mark.skipif(DATA is None, reason="shared Nezha data not present")


def test_replaying_three_faults_names_each_faulty_service_first_and_its_fault_kind(
    tmp_path: Path,
) -> None:
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(
        cli,
        [
            "replay",
            "nezha",
            str(DATA),
            "--only",
            "08_43",
            "--only",
            "09_25",
            "--only",
            "11_29",
            "--json",
            str(out),
            "--write-packs",
            str(tmp_path / "packs"),
            "--in-memory",
        ],
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert [f["inject_time"][11:16] for f in scores["faults"]] == ["08:43", "09:25", "11:29"]
    for fault in scores["faults"]:
        assert fault["ranked_services"][0] == fault["truth_service"]
        assert fault["predicted_type"] == fault["truth_type"]
        assert set(fault) >= {
            "inject_time",
            "truth_service",
            "truth_type",
            "ranked_services",
            "predicted_type",
            "seconds",
        }
    assert (tmp_path / "packs" / "nezha-2023-01-29-08_43" / "traces.json").exists()
    assert scores["as_at_1"] == 1.0
    assert scores["as_at_3"] == 1.0
    assert scores["type_accuracy"] == 1.0


@pytest.mark.slow
def test_a_fault_loaded_into_the_sandbox_and_investigated_names_the_faulty_service(
    tmp_path: Path,
) -> None:
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(
        cli, ["replay", "nezha", str(DATA), "--only", "08_43", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    (fault,) = scores["faults"]
    assert fault["ranked_services"][0] == fault["truth_service"] == "ts-contacts-service"
    assert fault["predicted_type"] == fault["truth_type"]
