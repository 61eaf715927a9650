"""When the performance digest calls a dependency slow: only for a change that is significant
against the series' own variance and large enough to matter, in one unit, with advice drawn
from what the traces showed."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from bot.analysis.traces import analyse_trace
from bot.analysis.traces.advice import (
    SLOW_DEPENDENCY_RULE,
    Edge,
    check_slowdown,
    duration_text,
    slow_dependency_advice,
)
from bot.analysis.traces.report import TraceReport
from bot.analysis.traces.results import TraceAnalysis
from bot.digests.performance import blocks_for
from bot.remediation.blocks import as_text
from tests.traces.test_trace_scenarios import TraceBuilder

EDGES = [Edge(caller="checkout", callee="payments", calls=40, errors=0, p50_ms=80, p95_ms=90)]


def checkout_trace(n: int, payments_ms: float, own_ms: float = 10) -> TraceAnalysis:
    """checkout (its own time `own_ms`) calling payments' `POST /charge` for `payments_ms`."""
    b = TraceBuilder(f"{n:032x}")
    root = b.span("POST /checkout", "checkout", 0, own_ms + payments_ms)
    b.span("POST /charge", "payments", own_ms / 2, payments_ms, root)
    return analyse_trace(b.build())


def traces(
    rng: random.Random, count: int, mean_ms: float, jitter_ms: float, start: int = 0
) -> list[TraceAnalysis]:
    return [
        checkout_trace(start + i, mean_ms + rng.uniform(-jitter_ms, jitter_ms))
        for i in range(count)
    ]


def test_a_dependency_adding_a_few_milliseconds_at_p95_is_not_called_slow() -> None:
    rng = random.Random(7)
    others = traces(rng, 30, 80, 2)
    slow = traces(rng, 6, 86, 1, start=100)
    skipped: list[str] = []
    assert slow_dependency_advice(slow, others, EDGES, skipped) == []
    [note] = skipped
    assert note.startswith("checkout → payments: not reported as slow, adds ")
    assert "under the 50 ms minimum" in note


def test_a_shift_within_the_series_own_spread_is_not_significant() -> None:
    rng = random.Random(11)
    usual = [rng.uniform(100_000, 1_500_000) for _ in range(20)]
    slow = [900_000.0, 950_000.0, 1_000_000.0, 1_400_000.0]
    check = check_slowdown(slow, usual, [s + 10_000 for s in slow])
    assert check.added_ms > 50  # large enough to matter…
    assert check.z < 3  # …but not told apart from the usual spread
    assert not check.reportable
    assert "within its usual spread" in check.why


def test_a_clear_slowdown_is_reported_in_one_unit_with_advice_from_the_traces() -> None:
    rng = random.Random(3)
    others = traces(rng, 30, 80, 5)
    slow = traces(rng, 6, 1800, 50, start=100)
    [advice] = slow_dependency_advice(slow, others, EDGES)
    added = duration_text(advice.impact_ms)
    assert added.endswith(" s")
    assert advice.title == f"Slow dependency: checkout → payments adds {added} at p95"
    assert f"adds {added} at p95" in advice.detail  # the heading's figure, in the same unit
    assert "`POST /charge` (100% of it)" in advice.detail
    assert "6 of 6 slow traces" in advice.detail
    for generic in ("timeout", "cache", "fallback"):
        assert generic not in advice.detail


def test_failing_calls_to_the_slow_dependency_are_named_in_its_advice() -> None:
    rng = random.Random(5)
    failing = [
        Edge(caller="checkout", callee="payments", calls=50, errors=5, p50_ms=80, p95_ms=1900)
    ]
    [advice] = slow_dependency_advice(
        traces(rng, 6, 1800, 50, start=100), traces(rng, 30, 80, 5), failing
    )
    assert "Calls from checkout also fail 10% of the time." in advice.detail


def test_durations_are_milliseconds_below_a_second_and_seconds_above() -> None:
    assert [duration_text(ms) for ms in (6.2, 640, 999.4, 1000, 1840)] == [
        "6 ms",
        "640 ms",
        "999 ms",
        "1.0 s",
        "1.8 s",
    ]


def test_the_performance_digest_states_the_rule_and_what_it_did_not_report() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    report = TraceReport(
        services=["checkout", "payments"],
        window_start=at,
        window_end=at,
        trace_count=36,
        slow_threshold_ms=85.0,
        slow_trace_ids=["a"],
        operations=[],
        edges=EDGES,
        recommendations=[],
        notes=[
            "checkout → payments: not reported as slow, adds 6 ms at p95, under the 50 ms minimum"
        ],
    )
    text = as_text(blocks_for(report, "http://jaeger", "UTC").blocks)
    assert SLOW_DEPENDENCY_RULE in text
    assert "adds 6 ms at p95, under the 50 ms minimum" in text
    assert "p95 90 ms" in text
    assert "Slow dependency" not in text
