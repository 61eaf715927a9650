"""Rule: the service whose own behaviour changed most since the alert began is its origin.

The generic rule for systems no failure signature describes: the localisation
(``bot.investigation.localise``) compared the first alert's fault window with the
fault-free time before it, per service and operation, and followed errors down the call
graph. Every specific rule knows more than this one, so it answers only when none matches
(its confidence is the lowest); its ranking is kept as the finding's suspects either way.
"""

from __future__ import annotations

from bot.investigation.localise import ERROR_MIN, OWN_MIN, STOPPED_MIN, ServiceScore
from bot.investigation.patterns.base import Candidate, RuleContext
from bot.investigation.patterns.observe import Observations
from bot.investigation.signals import Shift
from tools.base import Evidence

CONFIDENCE = 0.4
TOP_SUSPECTS = 5
_KIND_WORDS = {
    "error": "it started to fail (errors or exceptions of its own)",
    "wrong-result": "its code path changed (log lines or calls it used to make are gone)",
    "latency": "it became slow in its own work or on the wire to it",
    "cpu": "its pods' CPU use rose and stayed up",
    "memory": "its pods' memory use rose and stayed up",
    "unknown": "its behaviour changed",
}
_SOURCE_OF_SIGNAL = {
    "logs": "windows:logs",
    "stopped": "windows:logs",
    "cpu": "windows:metrics",
    "memory": "windows:metrics",
    "network": "windows:metrics",
}


def _evidence(obs: Observations, shift: Shift) -> Evidence | None:
    """The backend call that showed ``shift``, with the shift as its excerpt."""
    cited = obs.evidence.get(_SOURCE_OF_SIGNAL.get(shift.signal, "windows:traces"))
    if not cited:
        return None
    call = cited[-1]
    excerpt = f"{shift.signal}: {shift.what} ({shift.before:.3g} -> {shift.after:.3g})"
    return call.model_copy(update={"excerpt": excerpt[:300]})


def _clear(top: ServiceScore) -> bool:
    """The top service started to fail, a code path of its own broke off, or its own
    behaviour changed clearly (the localisation's own criteria for ranking it first)."""
    failing = max(top.strength("error-logs"), top.strength("errors")) >= ERROR_MIN
    return failing or top.strength("stopped") >= STOPPED_MIN or top.score >= OWN_MIN


def changed_behaviour(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """The top of the localisation's ranking, when its change is clear (``_clear``)."""
    found = obs.localised
    if found is None or not found.ranked or not _clear(found.ranked[0]):
        return None
    top = found.ranked[0]
    others = ", ".join(s.service for s in found.ranked[1:3])
    shown = [e for e in (_evidence(obs, s) for s in found.evidence[:4]) if e is not None]
    moved = "; ".join(f"{s.signal} {s.what}" for s in found.evidence[:2])
    return Candidate(
        rule="changed_behaviour",
        summary=(
            f"{top.service} is where this started: {_KIND_WORDS[found.kind]} since the alert "
            f"on {found.entry_service} began."
        ),
        root_cause=(
            f"Compared with the half hour before the alert, {top.service}'s own behaviour "
            f"changed most ({moved}); fault kind: {found.kind}."
            + (f" Next most changed: {others}." if others else "")
        ),
        confidence=CONFIDENCE,
        evidence=shown,
        suspects=found.services[:TOP_SUSPECTS],
        fault_kind=found.kind,
    )
