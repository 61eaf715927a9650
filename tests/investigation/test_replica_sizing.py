"""A scale-out proposal grows the replicas with the load that throttles them, at least by
one and never more than fourfold."""

from __future__ import annotations

from bot.investigation.patterns.rules_resources import replicas_for_load


def test_replicas_follow_the_measured_load_ratio() -> None:
    assert replicas_for_load(2, 2.3) == 5  # 2.3x the load 2 replicas carried: 4.6 -> 5
    assert replicas_for_load(4, 1.5) == 6


def test_a_small_or_unknown_load_rise_still_adds_a_replica() -> None:
    assert replicas_for_load(2, 1.05) == 3
    assert replicas_for_load(1, None) == 2
    assert replicas_for_load(4, None) == 6


def test_a_huge_surge_is_capped_at_four_times_the_replicas() -> None:
    assert replicas_for_load(3, 40.0) == 12
