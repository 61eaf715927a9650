"""Which service is at fault, and how: rank services by how much their OWN behaviour changed.

Signals (``bot.investigation.signals``) say per service what moved between the fault-free
baseline and the fault window. The clearest own failure is a code path that broke off: a log
statement that used to follow the one before it in the same span no longer does (an exception
thrown, an early return); load and callers do not move that. Failures propagate upwards (a
caller fails because its callee did), so a failing service whose callee (transitively, in the
window's call graph) failed in the same requests is ranked below that callee: the deepest
failing service is the origin. Resource saturation counts only when it is sustained and large
against the pod's own history. The kind of fault follows from the top service's evidence.

Pure: a recorded pack in, a ``Localisation`` out. Nothing here knows a dataset or a system.
"""

from __future__ import annotations

import re
from collections import defaultdict
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
    stopped_shifts,
)

ERROR_MIN = 3.0
"""An error-like shift this strong (z) means the service started to fail."""
RESOURCE_MIN = 8.0
"""A resource shift this strong (robust z of the window's sustained level) is saturation."""
SATURATED_LEAD = 50.0
"""Saturation this extreme (robust z) leads the ranking, ahead of failing services: a pod
pinned far outside its own history starves what it serves, and its callers' failures
follow from it."""
STOPPED_MIN = 3.0
"""A code path broken this clearly (``stopped_shifts``) is the service's own failure."""
OWN_MIN = 3.0
"""A service whose total change is this strong has clearly changed its own behaviour."""
WEIGHTS: dict[str, float] = {
    "errors": 1.0,
    "stopped": 1.0,
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
    """It started to fail, or a code path of its own broke off."""
    return (
        max(entry.strength("error-logs"), entry.strength("errors")) >= ERROR_MIN
        or entry.strength("stopped") >= STOPPED_MIN
    )


def own_failure(entry: ServiceScore) -> tuple[float, float]:
    """How clearly the service itself failed: first a code path of its own that broke off
    (conditional on reaching the statement before it, so neither load nor a caller moves
    it), then the errors it logs or originates (which its callers' failures also cause)."""
    return (
        entry.strength("stopped"),
        max(entry.strength("error-logs"), entry.strength("errors")),
    )


def _failed_traces(entry: ServiceScore) -> frozenset[str]:
    return frozenset().union(
        *(s.traces for sig, s in entry.best.items() if sig in ("stopped", "errors", "error-logs"))
    )


INHERITED_SHARE = 0.5
"""A caller whose failing traces are at least this share its callee's failing traces
inherited its failure from that callee."""


def _inherits(caller: ServiceScore, callee: ServiceScore) -> bool:
    """The caller failed in the same requests as its callee (its failure is the callee's)."""
    mine = _failed_traces(caller)
    return bool(mine) and len(mine & _failed_traces(callee)) >= INHERITED_SHARE * len(mine)


def rank(scores: dict[str, ServiceScore], graph: dict[str, set[str]]) -> list[ServiceScore]:
    """Extremely saturated services first (``SATURATED_LEAD``), then failing services, most
    clearly failing first; then the rest by score.

    Failures propagate upwards, so a failing service yields to a callee (transitively, in
    the window's call graph) that failed in the same requests (``_inherits``).
    """
    ordered = sorted(scores.values(), key=lambda s: (-s.score, s.service))
    failing = {s.service: own_failure(s) for s in ordered if _failing(s)}
    yields = {
        name: any(
            _inherits(scores[name], scores[below])
            for below in _descendants(graph, name) & set(failing)
        )
        for name in failing
    }

    def key(entry: ServiceScore) -> tuple[int, int, float, float, float, str]:
        saturation = max(entry.strength("cpu"), entry.strength("memory"))
        if saturation >= SATURATED_LEAD:
            return (0, 0, -saturation, 0.0, -entry.score, entry.service)
        if entry.service in failing:
            broke, errors = failing[entry.service]
            return (1, int(yields[entry.service]), -broke, -errors, -entry.score, entry.service)
        return (2, 0, 0.0, 0.0, -entry.score, entry.service)

    return sorted(ordered, key=key)


def _failure_kind(top: ServiceScore) -> FaultKind | None:
    """Error or wrong result when the service failed (see ``fault_kind``), else None."""
    errors = max(top.strength("error-logs"), top.strength("errors"))
    texts = [s.what for sig, s in top.best.items() if sig in ("error-logs", "errors")]
    if errors >= ERROR_MIN and (
        top.strength("errors") >= ERROR_MIN or any(_EXCEPTION.search(t) for t in texts)
    ):
        return "error"
    appeared = top.best.get("logs-up")
    went_another_way = errors >= ERROR_MIN or (
        appeared is not None and appeared.before == 0 and appeared.score >= STOPPED_MIN
    )
    if top.strength("stopped") >= STOPPED_MIN:
        return "wrong-result" if went_another_way else "error"
    return "wrong-result" if errors >= ERROR_MIN else None


def fault_kind(top: ServiceScore | None) -> FaultKind:
    """The kind of fault the top service's strongest evidence points to.

    Saturated resources name themselves. Errors that say "exception" (or error spans) mean
    an error. A code path that broke off is an error too (a thrown exception ends the span
    early) unless the service went on another way: it logged errors or warnings of its own
    that are not exceptions (it handled a bad value), or statements it never logged before
    appeared; that is a wrong result. Otherwise slowness of its own or on its wire is
    latency, and a changed code path alone a wrong result.
    """
    if top is None:
        return "unknown"
    resource = max(
        (("cpu", top.strength("cpu")), ("memory", top.strength("memory"))), key=lambda x: x[1]
    )
    errors = max(top.strength("error-logs"), top.strength("errors"))
    if resource[1] >= RESOURCE_MIN and resource[1] >= errors:
        return "cpu" if resource[0] == "cpu" else "memory"
    failure = _failure_kind(top)
    if failure is not None:
        return failure
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
        + stopped_shifts(periods)
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
    ranked = rank(scores, call_graph(periods.now_spans))
    top = ranked[0] if ranked else None
    evidence = sorted(top.best.values(), key=lambda s: -s.score) if top else []
    return Localisation(ranked, fault_kind(top), pack.entry_service, evidence)


def localise(pack: RecordedPack) -> Localisation:
    """Rank the pack's services by how much their own behaviour changed; name the fault kind."""
    periods, shifts = change_shifts(pack)
    return localise_shifts(pack, periods, shifts)
