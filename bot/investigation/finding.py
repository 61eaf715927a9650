"""A localisation as the investigation's ``Finding``: who is at fault, how, and what showed it.

Evidence items name what a human would check: the log template that appeared or faded in an
operation, the span pattern (calls, self time, edges) that moved, the metric that left its
range, each with its before/after values. Telemetry text stays data: it is carried in
``Evidence`` fields, never formatted into markup here.
"""

from __future__ import annotations

from bot.investigation.agent.finding import Finding
from bot.investigation.localise import Localisation
from bot.investigation.signals import Shift
from tools.base import Evidence

MAX_EVIDENCE = 5
_SOURCES = {
    "logs": "logs",
    "errors": "traces",
    "stopped": "logs",
    "calls": "traces",
    "latency": "traces",
    "edges": "traces",
    "cpu": "metrics",
    "memory": "metrics",
    "network": "metrics",
}
_KIND_WORDS = {
    "error": "raises errors/exceptions",
    "wrong-result": "returns wrong results (its code path changed without failing outright)",
    "latency": "answers slowly (latency or network delay)",
    "cpu": "is starved of CPU",
    "memory": "is short of memory",
    "unknown": "behaves differently",
}


def _evidence(shift: Shift, source: str) -> Evidence:
    return Evidence(
        tool=f"{source}:{_SOURCES.get(shift.signal, shift.signal)}",
        query=f"{shift.service} {shift.signal}",
        excerpt=f"{shift.what} ({shift.before:.3g} -> {shift.after:.3g}, z={shift.score:.1f})",
    )


def finding_of(found: Localisation, source: str = "recorded") -> Finding:
    """The ``Finding`` for a localisation; confidence grows with the lead over the runner-up."""
    if not found.ranked:
        return Finding(
            summary="No service changed its own behaviour.",
            root_cause="Not determined.",
            confidence=0.05,
        )
    top = found.ranked[0]
    runner = found.ranked[1].score if len(found.ranked) > 1 else 0.0
    lead = top.score / (top.score + runner) if top.score + runner > 0 else 0.5
    return Finding(
        summary=f"{top.service} {_KIND_WORDS[found.kind]}.",
        root_cause=f"Most likely origin: {top.service}; fault kind: {found.kind}.",
        confidence=round(min(0.95, max(0.1, lead)), 2),
        evidence=[_evidence(s, source) for s in found.evidence[:MAX_EVIDENCE]],
        rule="service-origin",
        fault_kind=found.kind,
        notes=[f"next: {s.service} (score {s.score:.1f})" for s in found.ranked[1:3]],
    )
