"""Error lines measured against their own baseline before any rule may blame them: pure.

Every service logs some errors on a quiet day (a recommendation call that times out now
and then, a declined card). Such lines say nothing about what is wrong now; only a kind of
error a service logs clearly more often than it did before is evidence. The kind is the
failure class the line names (`bot.investigation.patterns.log_signatures.classify`), else
the message with its numbers masked, per service that writes it. Rates are per hour of log
data: the recent window's length, and for the baseline the span its lines actually cover
(a log store may hold less history than the window asks for).

When the baseline holds no error line at all there is nothing to compare with (no history,
or nothing was failing): every recent line counts, as before this module existed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.investigation.patterns.log_signatures import classify
from tools.logs.aggregation_tools import MessageGroup, TopErrorsData

RISE_FACTOR = 3.0  # a kind of error must come this many times as often as before
MIN_LINES = 3  # ... and at least this many times in the recent window
MIN_SPAN = timedelta(minutes=10)  # a baseline shorter than this is no baseline
_NUMBERS = re.compile(r"\d+")

Key = tuple[str, str]  # (kind of error, service)


@dataclass(frozen=True)
class SteadyError:
    """A kind of error that was not blamed: its service logs it at its usual rate."""

    service: str
    message: str
    recent: int
    recent_per_hour: float
    baseline_per_hour: float

    def describe(self) -> str:
        return (
            f"{self.recent} x {self.message[:120]!r} at {self.recent_per_hour:.1f} per hour, "
            f"against {self.baseline_per_hour:.1f} per hour before"
        )


def error_kind(message: str) -> str:
    """The failure class a line names, else the line with its numbers masked."""
    failure = classify(message)
    return failure.name if failure is not None else _NUMBERS.sub("#", message)


def _counts(groups: list[MessageGroup]) -> Counter[Key]:
    counts: Counter[Key] = Counter()
    for group in groups:
        kind = error_kind(group.message)
        for service, count in (group.services or {"": group.count}).items():
            counts[(kind, service)] += count
    return counts


def covered(data: TopErrorsData, end: datetime, span: timedelta) -> timedelta:
    """How much of the window `end - span .. end` the lines of `data` cover: from the
    earliest line seen to the end of the window."""
    seen = [g.first_seen for g in data.groups if g.first_seen is not None]
    if not seen:
        return span
    return max(min(span, end - min(seen)), timedelta(0))


def deviating(
    recent: TopErrorsData,
    recent_span: timedelta,
    baseline: TopErrorsData | None,
    baseline_span: timedelta,
) -> tuple[TopErrorsData, list[SteadyError]]:
    """`recent` keeping only the kinds of error each service logs clearly more often than
    in `baseline` (its other writers left out of each group), and the steady kinds left
    out, most frequent first. Unchanged when there is no baseline to compare with."""
    if baseline is None or baseline.total_errors == 0 or baseline_span < MIN_SPAN:
        return recent, []
    recent_hours = max(recent_span.total_seconds() / 3600, 1e-6)
    base_hours = baseline_span.total_seconds() / 3600
    now_counts, base_counts = _counts(recent.groups), _counts(baseline.groups)

    def rises(key: Key) -> bool:
        rate = now_counts[key] / recent_hours
        return now_counts[key] >= MIN_LINES and rate >= RISE_FACTOR * base_counts[key] / base_hours

    kept: list[MessageGroup] = []
    steady: dict[Key, SteadyError] = {}
    for group in recent.groups:
        kind = error_kind(group.message)
        writers = group.services or {"": group.count}
        rising = {s: n for s, n in writers.items() if rises((kind, s))}
        for service in set(writers) - set(rising):
            key = (kind, service)
            steady.setdefault(
                key,
                SteadyError(
                    service=service,
                    message=group.message,
                    recent=now_counts[key],
                    recent_per_hour=now_counts[key] / recent_hours,
                    baseline_per_hour=base_counts[key] / base_hours,
                ),
            )
        if rising:
            services = rising if group.services else {}
            count = sum(rising.values()) if group.services else group.count
            kept.append(group.model_copy(update={"services": services, "count": count}))
    dropped = sum(g.count for g in recent.groups) - sum(g.count for g in kept)
    filtered = recent.model_copy(
        update={"groups": kept, "total_errors": max(recent.total_errors - dropped, 0)}
    )
    return filtered, sorted(steady.values(), key=lambda s: -s.recent)
