"""An N+1 repetition is only news when the fault-free traces did not already repeat it."""

from __future__ import annotations

from bot.investigation.patterns.trace_culprits import Culprit, repeated_before
from bot.investigation.recorded import Span

CULPRIT = Culprit("n-plus-one", "stock", "SELECT", 4)


def _calls(parent: str, times: int, operation: str = "SELECT") -> list[Span]:
    return [
        Span("t1", f"{parent}{i}", parent, "stock", "stock-0", operation, 1.0 + i, 2.0)
        for i in range(times)
    ]


def test_a_repetition_already_in_the_baseline_traces_is_usual() -> None:
    assert repeated_before(CULPRIT, _calls("p1", 3))


def test_single_calls_per_parent_before_the_alert_make_the_repetition_new() -> None:
    baseline = _calls("p1", 1) + _calls("p2", 1) + _calls("p3", 2, operation="UPDATE")
    assert not repeated_before(CULPRIT, baseline)
