"""A callee that rate-limits its callers since its own release: the callers' error lines
report 429 Too Many Requests (or "rate limited") from it, or the traces' deepest 429 span is
its own, and it rolled out shortly before. Its own error-rate alert stays silent (429 is a
4xx, not a 5xx), so the alert is on a caller; the fix is the callee's rollback, never an
action on the callers. When a caller's release multiplied its calls instead, `caller_load`
says so (it stands back when the callee changed itself)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.investigation.change_timeline import ChangeEvent
from bot.investigation.patterns.base import Candidate, RuleContext, action
from bot.investigation.patterns.log_signatures import dependency_named
from bot.investigation.patterns.observe import Observations
from policies import ActionKind
from tools.traces.summary import TraceSummary

RATE_LIMITED = re.compile(
    r"(?<![\d.])429(?![\d.])|too many requests|rate[- ]?limit(?:ed|ing)?\b|throttl",
    re.IGNORECASE,
)
RECENT = timedelta(hours=2)
BEFORE_FIRST = timedelta(minutes=10)  # a rollout may land a little after the first 429 line
BOTH_CONFIDENCE = 0.8  # callers' lines and the traces agree
ONE_CONFIDENCE = 0.7


@dataclass
class Throttling:
    """Who answers 429 to whom: per callee, the callers' rate-limited lines naming it, the
    traces whose deepest 429 span is its own, an example line and when the lines began."""

    lines: Counter[str] = field(default_factory=Counter)
    traces: Counter[str] = field(default_factory=Counter)
    callers: dict[str, set[str]] = field(default_factory=dict)
    example: dict[str, str] = field(default_factory=dict)
    since: dict[str, datetime] = field(default_factory=dict)


def deepest_429(trace: TraceSummary) -> str | None:
    """The service of the deepest span answering 429 (the one that rate-limited)."""
    limited = [s for s in trace.errors + trace.slowest if s.status_code == "429"]
    return max(limited, key=lambda s: s.depth).service if limited else None


def throttling(obs: Observations) -> Throttling:
    """Pure: the rate-limit evidence per callee, from the error lines and the traces."""
    found = Throttling()
    known = obs.known | set(obs.deployments)
    for group in obs.top_errors.groups if obs.top_errors else []:
        if not RATE_LIMITED.search(group.message):
            continue
        for writer, count in group.services.items():
            callee = dependency_named(group.message, known, writer)
            if callee is None or callee == writer:
                continue
            found.lines[callee] += count
            found.callers.setdefault(callee, set()).add(writer)
            found.example.setdefault(callee, group.message[:240])
            if group.first_seen is not None:
                found.since[callee] = min(
                    found.since.get(callee, group.first_seen), group.first_seen
                )
    for trace in obs.traces.traces if obs.traces else []:
        answerer = deepest_429(trace)
        if answerer is not None:
            found.traces[answerer] += 1
    return found


def _release(
    obs: Observations, service: str, now: datetime, since: datetime | None
) -> ChangeEvent | None:
    """The service's latest rollout within RECENT, not after its 429s began."""
    near = [
        e
        for e in obs.timeline
        if e.service == service
        and now - e.at <= RECENT
        and (since is None or e.at <= since + BEFORE_FIRST)
    ]
    return max(near, key=lambda e: e.at) if near else None


def rate_limited_by_callee(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """The callee that answers its callers 429 since its own recent release."""
    found = throttling(obs)
    ranked = sorted(
        set(found.lines) | set(found.traces), key=lambda s: -(found.lines[s] + found.traces[s])
    )
    for callee in ranked:
        event = _release(obs, callee, ctx.now, found.since.get(callee))
        if event is None:
            continue
        both = bool(found.lines[callee]) and bool(found.traces[callee])
        confidence = BOTH_CONFIDENCE if both else ONE_CONFIDENCE
        callers = sorted(found.callers.get(callee, set())) or ["its callers"]
        seen = []
        if found.lines[callee]:
            seen.append(
                f"{found.lines[callee]} error lines of {', '.join(callers)} report 429/rate "
                f"limiting from it (e.g. {found.example[callee]!r})"
            )
        if found.traces[callee]:
            seen.append(f"in {found.traces[callee]} traces the deepest 429 span is its own")
        version = ", ".join(i.rsplit(":", 1)[-1] for i in event.images if ":" in i)
        reason = f"{callee} rate-limits its callers (429) since revision {event.revision}"
        return Candidate(
            "rate-limited-by-callee",
            f"{callee} answers {', '.join(callers)} with 429 Too Many Requests since its "
            f"release ({version or f'revision {event.revision}'} at {event.at:%H:%M}Z).",
            f"{callee} started rate-limiting its callers after its rollout ({event.describe()}): "
            + "; ".join(seen)
            + f". A 429 is a 4xx, so an error-rate alert on {callee} that counts 5xx stays "
            f"silent; the callers turn the 429s into their own errors and alert. Rolling "
            f"{callee} back removes the limit; acting on the callers changes nothing.",
            confidence,
            obs.cite("top_errors", "traces", f"blast:{callee}")[:4],
            action(obs, ctx, ActionKind.ROLLBACK_DEPLOYMENT, callee, reason, confidence),
            recommendations=[
                f"Before re-deploying {callee}, exempt its internal callers from the new limit "
                "(or raise it above their peak call rate)."
            ],
            suspects=[callee, *[c for c in callers if c != "its callers"]],
        )
    return None
