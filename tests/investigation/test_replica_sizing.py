"""A scale-out proposal grows the replicas with the load that throttles them, at least by
one and never more than fourfold."""

from __future__ import annotations

from datetime import timedelta

from bot.investigation.patterns.base import RuleContext
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.rules_resources import cpu_throttling, replicas_for_load
from tests.investigation.test_pattern_rules_cross_service import NOW
from tools.metrics.query_tools import RangeQueryData
from tools.metrics.series import SeriesSummary


def test_replicas_follow_the_measured_load_ratio() -> None:
    assert replicas_for_load(2, 2.3) == 5  # 2.3x the load 2 replicas carried: 4.6 -> 5
    assert replicas_for_load(4, 1.5) == 6


def test_a_small_or_unknown_load_rise_still_adds_a_replica() -> None:
    assert replicas_for_load(2, 1.05) == 3
    assert replicas_for_load(1, None) == 2
    assert replicas_for_load(4, None) == 6


def test_a_huge_surge_is_capped_at_four_times_the_replicas() -> None:
    assert replicas_for_load(3, 40.0) == 12


def _range(name: str, values: list[float]) -> RangeQueryData:
    points = [
        ((NOW - timedelta(minutes=len(values) - i)).timestamp(), v) for i, v in enumerate(values)
    ]
    series = SeriesSummary(
        labels={}, points=len(points), first=values[0], last=values[-1], values=points
    )
    return RangeQueryData(
        query=name, start=NOW - timedelta(hours=1), end=NOW, step_seconds=60, total_series=1,
        series=[series],
    )  # fmt: skip


def test_the_traffic_rise_in_the_finding_is_measured_against_the_usual_rate() -> None:
    # The window's first sample is low (its rate window still filling): a rise read from it
    # said "traffic rose 8.6x" for a 2.5x surge, while the sizing used the usual rate.
    obs = Observations(namespace="prod", service="inventory")
    obs.ranges["cpu_throttling"] = _range("throttled", [0.05] * 10 + [0.6])
    obs.ranges["request_rate"] = _range("rate", [12.0] + [40.0] * 9 + [100.0])
    found = cpu_throttling(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert "traffic rose 2.5x" in found.summary
