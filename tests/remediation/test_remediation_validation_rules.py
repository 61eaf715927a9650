"""Judging the signal after an action: recovered, worse (confirmed), or not recovered in time."""

from __future__ import annotations

from bot.remediation.validation import Health, Reading, expression_of, judge, watch


class Script:
    """A signal that reads a fixed sequence (the last reading repeats)."""

    description = "scripted"

    def __init__(self, *values: float | None) -> None:
        self.values = list(values)

    def read(self) -> Reading:
        value = self.values.pop(0) if len(self.values) > 1 else self.values[0]
        return Reading(value)


def run(baseline: float | None, *values: float | None) -> Health:
    ticks = iter(range(1000))
    return watch(
        Script(*values),
        Reading(baseline),
        deadline_seconds=10,
        interval_seconds=1,
        worse_ratio=0.25,
        confirmations=2,
        sleep=lambda _: None,
        clock=lambda: float(next(ticks)),
    ).health


def test_a_cleared_condition_is_recovered_and_a_confirmed_rise_is_worse() -> None:
    assert run(3.0, 3.0, 2.0, None) is Health.RECOVERED
    assert run(3.0, 5.0, 5.0) is Health.WORSE
    assert run(3.0, 5.0, 3.0, 5.0, 3.0, 3.0) is Health.NOT_RECOVERED  # spikes are not confirmed
    assert run(None, 1.0, 1.0) is Health.WORSE  # firing after the action, clear before


def test_a_failed_read_never_counts_as_recovered() -> None:
    assert judge(Reading(2.0), Reading(None, "down", error=True), 0.25) is Health.NOT_RECOVERED


def test_the_alert_expression_is_read_from_its_generator_url() -> None:
    url = "http://prom:9090/graph?g0.expr=rate%28errors%5B5m%5D%29+%3E+0.05&g0.tab=1"
    assert expression_of(url) == "rate(errors[5m]) > 0.05"
    assert expression_of("") is None
    assert expression_of("http://prom:9090/graph") is None


def run_held(*values: float | None) -> Health:
    ticks = iter(range(1000))
    return watch(
        Script(*values),
        Reading(3.0),
        deadline_seconds=6,
        interval_seconds=1,
        worse_ratio=0.25,
        hold_seconds=3,
        sleep=lambda _: None,
        clock=lambda: float(next(ticks)),
    ).health


def test_recovery_must_hold_so_a_crash_loop_between_crashes_is_not_healed() -> None:
    assert run_held(None, None, 3.0, None, None, 3.0, None, None, 3.0) is Health.NOT_RECOVERED
    assert (
        run_held(3.0, 3.0, 3.0, 3.0, 3.0, None) is Health.RECOVERED
    )  # the hold outlives the deadline
