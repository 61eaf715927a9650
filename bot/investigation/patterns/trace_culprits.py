"""Which downstream service makes a service's slow traces slow: an N+1 pattern (one operation
repeated under one parent) or a dependency whose own time dominates the trace."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.investigation.recorded import Span
from tools.traces.summary import TraceSummary

SLOWEST_TRACES = 5
N_PLUS_ONE_REPEATS = 3
DOMINANT_SHARE = 0.5


@dataclass(frozen=True)
class Culprit:
    kind: Literal["n-plus-one", "slow-dependency"]
    service: str
    operation: str
    count: int


def slow_culprit(traces: list[TraceSummary], own: str | None) -> Culprit | None:
    slowest = sorted(traces, key=lambda t: -t.duration_ms)[:SLOWEST_TRACES]
    if len(slowest) < 2 or not own:
        return None
    for trace in slowest:
        repeats = Counter((s.service, s.operation, s.parent_id) for s in trace.slowest)
        if repeats:
            (service, operation, _), count = repeats.most_common(1)[0]
            if count >= N_PLUS_ONE_REPEATS:
                return Culprit("n-plus-one", service, operation, count)
    dominant: Counter[tuple[str, str]] = Counter()
    for trace in slowest:
        top = max(trace.slowest, key=lambda s: s.self_ms, default=None)
        if top and top.self_ms >= DOMINANT_SHARE * trace.duration_ms and top.service != own:
            dominant[(top.service, top.operation)] += 1
    if not dominant:
        return None
    (service, operation), hits = dominant.most_common(1)[0]
    if hits < max(2, len(slowest) // 2 + 1):
        return None
    return Culprit("slow-dependency", service, operation, hits)


def repeated_before(culprit: Culprit, baseline: Iterable[Span]) -> bool:
    """The culprit's operation already ran ``N_PLUS_ONE_REPEATS``+ times under one parent in
    fault-free traces: the repetition is how the system always works, not what changed."""
    under: Counter[str | None] = Counter(
        s.parent_id
        for s in baseline
        if s.service == culprit.service and s.operation == culprit.operation and s.parent_id
    )
    return bool(under) and max(under.values()) >= N_PLUS_ONE_REPEATS
