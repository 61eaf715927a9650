"""Miner state survives a restart: JSON out, JSON in, identical behaviour."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from bot.analysis.logmine import MaskRule, MinerConfig, TemplateMiner

LOGHUB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "loghub-2k"


def _mixed_lines() -> list[str]:
    lines: list[str] = []
    for name in ("HDFS", "OpenSSH", "Mac"):
        with (LOGHUB / name / f"{name}_2k.log_structured_corrected.csv").open(newline="") as f:
            lines += [row["Content"] for row in csv.DictReader(f)]
    names = ["alice", "bob", "carol", "dave", "erin"]
    lines += [f"User {names[i % 5]} logged in from the console" for i in range(40)]
    random.Random(11).shuffle(lines)
    return lines


@pytest.mark.parametrize("cap", [None, 40])
def test_state_round_trip_gives_identical_results(cap: int | None) -> None:
    lines = _mixed_lines()
    config = MinerConfig(max_clusters=cap, extra_rules=(MaskRule("pid", r"pid \d+", "pid <*>"),))
    original = TemplateMiner(config)
    for line in lines[:3000]:
        original.add(line)
    restored = TemplateMiner.from_state(json.loads(json.dumps(original.to_state())))
    assert restored.config == original.config
    assert restored.to_state() == original.to_state()
    if cap is None:
        assert original.to_state()["aliases"]  # the user lines were folded
    rest = lines[3000:]
    assert [restored.add(x) for x in rest] == [original.add(x) for x in rest]
    assert restored.to_state() == original.to_state()


def test_a_state_of_another_version_is_refused() -> None:
    state = TemplateMiner().to_state()
    state["version"] = 99
    with pytest.raises(ValueError, match="version"):
        TemplateMiner.from_state(state)
