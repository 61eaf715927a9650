"""Which service is at fault, and how: rank services by how much their OWN behaviour changed.

Signals (``bot.investigation.signals``) say per service what moved between the fault-free
baseline and the fault window. Errors propagate upwards (a caller logs an error because its
callee failed), so among services that started to error, one whose callee (transitively, in the
window's call graph) also started to error is ranked below that callee: the deepest erroring
service is the origin. Resource saturation counts only when it is sustained and large against
the pod's own history. The kind of fault follows from the top service's strongest evidence.

Pure: a recorded pack in, a ``Localisation`` out. Nothing here knows a dataset or a system.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.investigation.recorded import FaultKind, RecordedPack, Span, workload_of_pod
from bot.investigation.signals import (
    Periods,
    Shift,
    call_shifts,
    edge_shifts,
    error_shifts,
    latency_shifts,
    log_shifts,
    resource_shifts,
)

ERROR_MIN = 3.0
"""An error-like shift this strong (z) means the service started to fail."""
RESOURCE_MIN = 8.0
"""A resource shift this strong (robust z of the window's sustained level) is saturation."""
OWN_MIN = 3.0
"""A non-error shift this strong makes a callee in a failing caller's traces its origin."""
WEIGHTS: dict[str, float] = {
    "errors": 1.0,
    "error-logs": 1.0,
    "logs-down": 0.5,
    "logs-up": 0.1,
    "calls": 0.25,
    "latency": 0.5,
    "edges": 0.25,
    "cpu": 1.0,
    "memory": 1.0,
    "network": 0.0,
}
"""How much each signal counts towards a service's score (network bytes follow traffic)."""
_EXCEPTION = re.compile(r"exception|throw|\bat [\w.$]+\(|traceback|panic", re.IGNORECASE)


@dataclass
class ServiceScore:
    """One service's total and the strongest shift of each signal."""

    service: str
    score: float = 0.0
    best: dict[str, Shift] = field(default_factory=dict)
    origin_of: ServiceScore | None = None
    """The erroring caller this service was found to be the origin of, if any."""

    def strength(self, signal: str) -> float:
        """The strongest shift of ``signal`` (0 when none)."""
        shift = self.best.get(signal)
        return shift.score if shift else 0.0


@dataclass
class Localisation:
    """The ranked services (most likely origin first), the fault kind, and the evidence."""

    ranked: list[ServiceScore]
    kind: FaultKind
    entry_service: str
    evidence: list[Shift]

    @property
    def services(self) -> list[str]:
        """Service names, most likely first."""
        return [s.service for s in self.ranked]


def _signal(shift: Shift) -> str:
    """Log shifts split three ways: error templates appearing, templates fading, others rising.

    A template that fades from an operation still being called means its code path changed;
    one that rises without being an error is weak evidence (a short baseline misses rare
    paths), so it counts little.
    """
    if shift.signal != "logs":
        return shift.signal
    if shift.error_like:
        return "error-logs"
    return "logs-down" if shift.after < shift.before else "logs-up"


def score_services(
    shifts: list[Shift], weights: dict[str, float] | None = None
) -> dict[str, ServiceScore]:
    """Fold shifts into one weighted score per service (strongest shift per signal).

    ``weights`` replaces ``WEIGHTS`` (signals it leaves out count 0): the bench's
    held-out weight selection scores candidates through the same code.
    """
    weights = WEIGHTS if weights is None else weights
    scores: dict[str, ServiceScore] = {}
    for shift in shifts:
        entry = scores.setdefault(shift.service, ServiceScore(shift.service))
        signal = _signal(shift)
        if signal in ("cpu", "memory") and shift.score < RESOURCE_MIN:
            continue
        current = entry.best.get(signal)
        if current is None or shift.score > current.score:
            entry.best[signal] = shift
    for entry in scores.values():
        entry.score = sum(weights.get(sig, 0.0) * s.score for sig, s in entry.best.items())
    return scores


def call_graph(spans: list[Span]) -> dict[str, set[str]]:
    """Service -> services it calls (directly), from parent/child spans."""
    by_id = {s.span_id: s for s in spans}
    graph: dict[str, set[str]] = defaultdict(set)
    for span in spans:
        parent = by_id.get(span.parent_id or "")
        if parent is not None and parent.service != span.service:
            graph[parent.service].add(span.service)
    return graph


def _descendants(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = list(graph.get(start, ()))
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(graph.get(node, ()))
    return seen


def _failing(entry: ServiceScore) -> bool:
    return max(entry.strength("error-logs"), entry.strength("errors")) >= ERROR_MIN


def _own_change(entry: ServiceScore) -> float:
    """How strongly a service's own code path changed: templates fading, calls changing."""
    return max(entry.strength("logs-down"), entry.strength("calls"))


def _origin_below(
    failing: ServiceScore, scores: dict[str, ServiceScore], spans: list[Span]
) -> str | None:
    """In the traces where ``failing`` errs, the service below it whose own behaviour changed
    most (at least ``OWN_MIN``): the error most likely started there."""
    traces = set().union(
        *(s.traces for sig, s in failing.best.items() if sig in ("error-logs", "errors"))
    )
    if not traces:
        return None
    in_traces = [s for s in spans if s.trace_id in traces]
    by_id = {s.span_id: s for s in in_traces}
    below: set[str] = set()
    for span in in_traces:
        parent = by_id.get(span.parent_id or "")
        while parent is not None:
            if parent.service == failing.service and span.service != failing.service:
                below.add(span.service)
                break
            parent = by_id.get(parent.parent_id or "")
    changed = [
        (_own_change(scores[name]), name)
        for name in below
        if name in scores and _own_change(scores[name]) >= OWN_MIN
    ]
    return max(changed)[1] if changed else None


def rank(
    scores: dict[str, ServiceScore], graph: dict[str, set[str]], spans: Sequence[Span] = ()
) -> list[ServiceScore]:
    """Services by score, erroring ones first, except that errors are followed downwards.

    An erroring service whose callee also errors yields to it; and one whose error traces
    pass through a callee whose own behaviour changed yields to that callee.
    """
    ordered = sorted(scores.values(), key=lambda s: (-s.score, s.service))
    failing = {s.service for s in ordered if _failing(s)}
    below = {name: _descendants(graph, name) & failing for name in failing}

    def key(entry: ServiceScore) -> tuple[int, int, float, str]:
        if entry.service in failing:
            return (0, 1 if below[entry.service] else 0, -entry.score, entry.service)
        return (1, 0, -entry.score, entry.service)

    result = sorted(ordered, key=key)
    for entry in [e for e in result if e.service in failing and not below[e.service]]:
        origin = _origin_below(entry, scores, list(spans))
        if origin is None:
            continue
        moved = scores[origin]
        moved.origin_of = entry
        if result.index(moved) > result.index(entry):
            result.remove(moved)
            result.insert(result.index(entry), moved)
    return result


def fault_kind(top: ServiceScore | None) -> FaultKind:
    """The kind of fault the top service's strongest evidence points to."""
    if top is None:
        return "unknown"
    resource = max(
        (("cpu", top.strength("cpu")), ("memory", top.strength("memory"))), key=lambda x: x[1]
    )
    errors = max(top.strength("error-logs"), top.strength("errors"))
    if resource[1] >= RESOURCE_MIN and resource[1] >= errors:
        return "cpu" if resource[0] == "cpu" else "memory"
    if errors < ERROR_MIN and top.origin_of is not None:
        top = top.origin_of  # its callers' errors are what it caused
        errors = max(top.strength("error-logs"), top.strength("errors"))
    if errors >= ERROR_MIN:
        texts = [s.what for sig, s in top.best.items() if sig in ("error-logs", "errors")]
        if top.strength("errors") >= ERROR_MIN or any(_EXCEPTION.search(t) for t in texts):
            return "error"
        return "wrong-result"
    slow = max(top.strength("latency"), top.strength("edges"))
    if WEIGHTS["latency"] * slow >= max(
        WEIGHTS["logs-down"] * top.strength("logs-down"),
        WEIGHTS["calls"] * top.strength("calls"),
    ):
        return "latency"
    return "wrong-result"


def change_shifts(pack: RecordedPack) -> tuple[Periods, list[Shift]]:
    """Every per-service change of the pack's fault window against its baseline."""
    periods = Periods.of(pack)
    service_of_pod = {s.pod: s.service for s in pack.spans}
    for sample in pack.samples:
        if sample.pod != pack.entry_service:
            service_of_pod.setdefault(sample.pod, workload_of_pod(sample.pod))
    shifts = (
        log_shifts(periods)
        + call_shifts(periods)
        + latency_shifts(periods)
        + edge_shifts(periods)
        + error_shifts(periods)
        + resource_shifts(periods, service_of_pod)
    )
    return periods, shifts


def localise_shifts(
    pack: RecordedPack,
    periods: Periods,
    shifts: list[Shift],
    weights: dict[str, float] | None = None,
) -> Localisation:
    """Rank services from already computed shifts (``weights`` as in ``score_services``)."""
    scores = score_services(shifts, weights)
    ranked = rank(scores, call_graph(periods.now_spans), periods.now_spans)
    top = ranked[0] if ranked else None
    evidence = sorted(top.best.values(), key=lambda s: -s.score) if top else []
    return Localisation(ranked, fault_kind(top), pack.entry_service, evidence)


def localise(pack: RecordedPack) -> Localisation:
    """Rank the pack's services by how much their own behaviour changed; name the fault kind."""
    periods, shifts = change_shifts(pack)
    return localise_shifts(pack, periods, shifts)
