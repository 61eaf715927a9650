"""Recommendations from analysed traces, each with a confidence (0..1) and the evidence
trace ids (slowest first): N+1 queries, a slow dependency, sequential calls that could run
concurrently, repeated identical calls (a missing cache) and error hot spots. Pure."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel

from bot.analysis.traces import TraceTree, percentile
from bot.analysis.traces.results import TraceAnalysis

_PLACEHOLDER = re.compile(r"\$\d+|\?|:\w+|%s")


class Edge(BaseModel):
    """Calls from one service to another, as the caller saw them."""

    caller: str
    callee: str
    calls: int
    errors: int
    p50_ms: float
    p95_ms: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


class Recommendation(BaseModel):
    kind: str  # n_plus_one | slow_dependency | sequential_calls | repeated_calls | errors
    service: str
    subject: str  # stable across reports (no numbers): the GitHub issue title
    title: str
    detail: str
    confidence: float
    impact_ms: float
    evidence: list[str]  # trace ids, most telling first


def _confidence(value: float) -> float:
    return round(min(0.95, max(0.05, value)), 2)


def _slowest_first(ids: set[str], durations: dict[str, int], limit: int = 5) -> list[str]:
    return sorted(ids, key=lambda i: (-durations.get(i, 0), i))[:limit]


def n_plus_one_advice(
    analyses: Sequence[TraceAnalysis],
    total: int,
    targets: dict[tuple[str, str], str] | None = None,
) -> list[Recommendation]:
    groups: dict[tuple[str, str, str], list[tuple[str, int, int, float]]] = defaultdict(list)
    for analysis in analyses:
        for found in analysis.n_plus_one:
            key = (found.service, found.operation, found.statement or found.operation)
            groups[key].append(
                (analysis.trace_id, found.count, found.total_us, found.sequential_ratio)
            )
    durations = {a.trace_id: a.duration_us for a in analyses}
    advice = []
    for (service, operation, what), hits in groups.items():
        traces = {h[0] for h in hits}
        per_trace = sorted(h[2] for h in hits)
        calls = round(sum(h[1] for h in hits) / len(hits))
        ratio = sum(h[3] for h in hits) / len(hits)
        impact = percentile(per_trace, 95) / 1000
        target = (targets or {}).get((service, operation))
        via = f"{service} → {target}" if target else service
        advice.append(
            Recommendation(
                kind="n_plus_one",
                service=service,
                subject=f"N+1 queries: {via} ({operation})",
                title=f"N+1: {via} adds {duration_text(impact)} at p95 through {calls} sequential "
                f"{operation} calls per request",
                detail=f"{via}: `{what}` runs {calls} times per request, one after the other "
                f"({len(traces)} of {total} traces), adding {duration_text(impact)} at p95. "
                "Batch them into one call (e.g. `WHERE id IN (...)` or a bulk endpoint) "
                "or prefetch.",
                confidence=_confidence(0.5 + 0.45 * ratio * min(1.0, len(traces) / 5)),
                impact_ms=impact,
                evidence=_slowest_first(traces, durations),
            )
        )
    return advice


MIN_ADDED_MS = 50.0
"""Below this a dependency's extra time is within a request path's ordinary jitter (network
round trips, GC pauses): not worth an engineer's afternoon, whatever its statistics."""
MIN_ADDED_SHARE = 0.10
"""…and it must be at least this share of the slow traces' p95 duration: fixing less would
not change what the users of those slow requests feel."""
MIN_Z = 3.0
"""How far apart the slow and the other traces' typical time in the service must be, in
standard errors of their medians (robust: from the median absolute deviation)."""
MIN_SAMPLES = 3
SLOW_DEPENDENCY_RULE = (
    f"A dependency is called slow only when the slow traces spend significantly more time in "
    f"it than the others (the medians at least {MIN_Z:.0f} standard errors apart, from each "
    f"series' own spread) and it adds at least {MIN_ADDED_MS:.0f} ms and "
    f"{MIN_ADDED_SHARE:.0%} of the slow traces' p95."
)


def duration_text(ms: float) -> str:
    """One unit for a duration wherever it is shown: `640 ms`, `1.8 s`."""
    return f"{ms / 1000:.1f} s" if abs(ms) >= 1000 else f"{ms:.0f} ms"


def _median(values: Sequence[float]) -> float:
    return percentile(sorted(values), 50)


def _standard_error(values: Sequence[float]) -> float:
    """Standard error of the median from the median absolute deviation (1.4826 · MAD is sigma
    for normal data; the median's error is about 1.2533 · sigma / √n)."""
    middle = _median(values)
    mad = _median([abs(v - middle) for v in values])
    return 1.2533 * 1.4826 * mad / math.sqrt(len(values))


class SlowdownCheck(BaseModel):
    """Whether one service's extra time in the slow traces is worth reporting, and why."""

    added_ms: float  # p95 of the slow traces' time in it minus the others' median
    shift_ms: float  # the medians' difference
    z: float  # shift in standard errors (inf when both series are flat and differ)
    slow_p95_ms: float
    reportable: bool
    why: str


def check_slowdown(
    slow_us: Sequence[float], usual_us: Sequence[float], slow_durations_us: Sequence[float]
) -> SlowdownCheck:
    """The rule of `SLOW_DEPENDENCY_RULE` on one service: its own time in the slow traces
    against the other traces, both in microseconds. Pure."""
    added = (percentile(sorted(slow_us), 95) - _median(usual_us)) / 1000
    shift = (_median(slow_us) - _median(usual_us)) / 1000
    slow_p95 = percentile(sorted(slow_durations_us), 95) / 1000
    error = math.hypot(_standard_error(slow_us), _standard_error(usual_us)) / 1000
    z = shift / error if error > 0 else (math.inf if shift > 0 else 0.0)
    floor = max(MIN_ADDED_MS, MIN_ADDED_SHARE * slow_p95)
    if len(slow_us) < MIN_SAMPLES or len(usual_us) < MIN_SAMPLES:
        why = f"too few traces to compare ({len(slow_us)} slow, {len(usual_us)} others)"
    elif added < floor:
        why = f"adds {duration_text(added)} at p95, under the {duration_text(floor)} minimum"
    elif z < MIN_Z:
        why = f"a shift of {duration_text(shift)} is within its usual spread (z {z:.1f})"
    else:
        why = ""
    return SlowdownCheck(
        added_ms=added, shift_ms=shift, z=z, slow_p95_ms=slow_p95, reportable=not why, why=why
    )


def _own_time(analyses: Sequence[TraceAnalysis], service: str) -> list[float]:
    return [
        float(next((s.time_us for s in a.self_time_by_service if s.service == service), 0))
        for a in analyses
    ]


def _main_operation(slow: Sequence[TraceAnalysis], service: str) -> tuple[str, float]:
    """The operation of `service` holding most of its own time across the slow traces."""
    totals: dict[str, int] = defaultdict(int)
    for analysis in slow:
        for share in analysis.self_time_by_operation:
            if share.service == service and share.operation:
                totals[share.operation] += share.time_us
    whole = sum(totals.values())
    if not whole:
        return "", 0.0
    operation, time = max(totals.items(), key=lambda kv: (kv[1], kv[0]))
    return operation, time / whole


def slow_dependency_advice(
    slow: Sequence[TraceAnalysis],
    others: Sequence[TraceAnalysis],
    edges: Sequence[Edge],
    skipped: list[str] | None = None,
) -> list[Recommendation]:
    """The service holding most of the slow traces' critical path, against the rest; only
    when it passes `check_slowdown` (otherwise why not goes to `skipped`)."""
    if not slow:
        return []
    by_service: dict[str, set[str]] = defaultdict(set)
    for analysis in slow:
        if analysis.bottleneck is not None:
            by_service[analysis.bottleneck.service].add(analysis.trace_id)
    if not by_service:
        return []
    service, traces = max(by_service.items(), key=lambda kv: (len(kv[1]), kv[0]))
    callers = sorted({e.caller for e in edges if e.callee == service})
    via = f"{', '.join(callers)} → {service}" if callers else service
    check = check_slowdown(
        _own_time(slow, service), _own_time(others, service), [a.duration_us for a in slow]
    )
    if not check.reportable:
        if skipped is not None:
            skipped.append(f"{via}: not reported as slow, {check.why}")
        return []
    share = len(traces) / len(slow)
    added = duration_text(check.added_ms)
    operation, op_share = _main_operation(slow, service)
    where = (
        f"mostly in `{operation}` ({op_share:.0%} of it)" if operation else "across its operations"
    )
    failing = [e for e in edges if e.callee == service and e.error_rate >= 0.01]
    errors = "".join(
        f" Calls from {e.caller} also fail {e.error_rate:.0%} of the time." for e in failing
    )
    return [
        Recommendation(
            kind="slow_dependency",
            service=service,
            subject=f"Slow dependency: {via}",
            title=f"Slow dependency: {via} adds {added} at p95",
            detail=f"{via} adds {added} at p95 to the slow traces (the typical slow trace "
            f"spends {duration_text(check.shift_ms)} more in it than the others; "
            f"{len(traces)} of {len(slow)} slow traces have their bottleneck there). The time is "
            f"{service}'s own, not its callees', {where}: find what that code waits on without "
            f"a span of its own (a connection pool, a lock, an untraced downstream call).{errors}",
            confidence=_confidence(0.35 + 0.6 * share),
            impact_ms=check.added_ms,
            evidence=_slowest_first(traces, {a.trace_id: a.duration_us for a in slow}),
        )
    ]


def sequential_advice(analyses: Sequence[TraceAnalysis], total: int) -> list[Recommendation]:
    groups: dict[tuple[str, str, tuple[str, ...]], list[tuple[str, int]]] = defaultdict(list)
    for analysis in analyses:
        for found in analysis.sequential_calls:
            key = (found.parent.service, found.parent.operation, tuple(found.targets))
            groups[key].append((analysis.trace_id, found.saving_us))
    durations = {a.trace_id: a.duration_us for a in analyses}
    advice = []
    for (service, operation, targets), hits in groups.items():
        savings = sorted(h[1] for h in hits)
        saving = percentile(savings, 50) / 1000
        if len(hits) < 2 or saving < 5:
            continue
        advice.append(
            Recommendation(
                kind="sequential_calls",
                service=service,
                subject=f"Sequential calls: {service} {operation} → {', '.join(targets)}",
                title=f"{service} calls {', '.join(targets)} one after the other",
                detail=f"{service} {operation} calls {', '.join(targets)} in sequence with no "
                f"overlap ({len(hits)} of {total} traces); running them concurrently would "
                f"save about {duration_text(saving)} per request, if they do not depend on "
                "each other.",
                confidence=_confidence(0.4 + 0.3 * min(1.0, len(hits) / 5)),
                impact_ms=saving,
                evidence=_slowest_first({h[0] for h in hits}, durations),
            )
        )
    return advice


def repeated_call_advice(trees: Sequence[TraceTree], total: int) -> list[Recommendation]:
    """Siblings repeating one call with identical literal arguments: a missing cache."""
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    counts: dict[tuple[str, str], list[int]] = defaultdict(list)
    for tree in trees:
        for parent in tree.walk():
            same: dict[tuple[str, str], int] = defaultdict(int)
            for child in parent.children:
                raw = child.span.tag("db.statement") or child.span.tag("http.url")
                if isinstance(raw, str) and raw and not _PLACEHOLDER.search(raw):
                    same[(child.service, raw)] += 1
            for key, n in same.items():
                if n >= 3:
                    groups[key].add(tree.trace_id)
                    counts[key].append(n)
    advice = []
    for (service, call), ids in groups.items():
        times = round(sum(counts[(service, call)]) / len(counts[(service, call)]))
        advice.append(
            Recommendation(
                kind="repeated_calls",
                service=service,
                subject=f"Repeated identical call: {service} `{call[:60]}`",
                title=f"{service} repeats an identical call",
                detail=f"{service} makes `{call[:120]}` about {times} times with the same "
                f"arguments per request ({len(ids)} of {total} traces); cache the first "
                "answer for the request.",
                confidence=_confidence(0.5 + 0.4 * min(1.0, len(ids) / 5)),
                impact_ms=0.0,
                evidence=sorted(ids)[:5],
            )
        )
    return advice


def error_advice(analyses: Sequence[TraceAnalysis], total: int) -> list[Recommendation]:
    """Error hot spots: the deepest failing span of each trace, grouped by operation."""
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    messages: dict[tuple[str, str], str] = {}
    for analysis in analyses:
        if not analysis.errors:
            continue
        origin = analysis.errors[-1]
        key = (origin.span.service, origin.span.operation)
        groups[key].add(analysis.trace_id)
        messages.setdefault(key, origin.message or ", ".join(origin.reasons))
    advice = []
    for (service, operation), ids in groups.items():
        share = len(ids) / total if total else 0.0
        advice.append(
            Recommendation(
                kind="errors",
                service=service,
                subject=f"Errors in {service} {operation}",
                title=f"Errors in {service} {operation}",
                detail=f"{service} {operation} fails in {len(ids)} of {total} traces "
                f"({share:.0%}): {messages[(service, operation)]}",
                confidence=_confidence(0.5 + 0.45 * min(1.0, len(ids) / 5)),
                impact_ms=0.0,
                evidence=sorted(ids)[:5],
            )
        )
    return advice
