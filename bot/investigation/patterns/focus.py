"""Which service to investigate as the likely cause, from every signal at once: pure.

The alerts name where trouble shows, not where it starts. Each service in the blast radius
gets points for the evidence that it is the origin: pods of its own that are unhealthy,
failing traces whose deepest failing span is its own, slow traces whose self time is its
own, error logs it writes (a caller's client-side error - refused, timed out, bad
certificate, a 5xx it received - counts for the callee it names), and, least, being named
by an alert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.investigation.patterns.log_signatures import (
    CLIENT_SIDE,
    classify,
    dependency_named,
    reports_callee_error,
)
from tools.logs.aggregation_tools import MessageGroup

UNHEALTHY_PODS = 3.0
ERROR_ORIGIN = 2.0
LATENCY_ORIGIN = 2.0
ERROR_LOGS = 1.0
ALERTED = 0.5
FIRST_ALERT = 0.25


@dataclass(frozen=True)
class Suspect:
    service: str
    score: float
    reasons: tuple[str, ...] = field(default_factory=tuple)


def log_blame(groups: Sequence[MessageGroup], known: set[str]) -> Counter[str]:
    """Error lines per service they implicate: the writer, or the callee a client names. A
    line reporting a server error its writer received is about its callee; when it names
    none, it implicates nobody (the writer only passed the error on)."""
    blame: Counter[str] = Counter()
    for group in groups:
        failure = classify(group.message)
        for writer, count in group.services.items():
            callee = dependency_named(group.message, known, writer)
            received = reports_callee_error(group.message)
            if (failure in CLIENT_SIDE or received) and callee and callee != writer:
                blame[callee] += count
            elif not received:  # a 5xx received from an unnamed callee blames no one
                blame[writer] += count
    return blame


def _share(counts: Counter[str], service: str) -> float:
    total = sum(counts.values())
    return counts[service] / total if total else 0.0


def rank_suspects(
    *,
    alerted: Sequence[str],
    unhealthy: Counter[str],
    error_origins: Counter[str],
    latency_origins: Counter[str],
    logs: Counter[str],
) -> list[Suspect]:
    """Every service with any evidence, most likely origin first."""
    services = set(alerted) | set(unhealthy) | set(error_origins) | set(latency_origins)
    services |= set(logs)
    suspects = []
    for service in services:
        score, reasons = 0.0, []
        if unhealthy[service]:
            score += UNHEALTHY_PODS
            reasons.append(f"{unhealthy[service]} unhealthy pod(s)")
        if error_origins[service]:
            score += ERROR_ORIGIN * _share(error_origins, service)
            reasons.append(f"deepest failing span in {error_origins[service]} trace(s)")
        if latency_origins[service]:
            score += LATENCY_ORIGIN * _share(latency_origins, service)
            reasons.append(f"most self time in {latency_origins[service]} slow trace(s)")
        if logs[service]:
            score += ERROR_LOGS * _share(logs, service)
            reasons.append(f"{logs[service]} error log line(s) implicate it")
        if service in alerted:
            score += ALERTED + (FIRST_ALERT if alerted and alerted[0] == service else 0.0)
            reasons.append("named by an alert")
        suspects.append(Suspect(service, round(score, 3), tuple(reasons)))
    return sorted(suspects, key=lambda s: (-s.score, s.service))


def blast_radius(
    alerted: Sequence[str],
    error_origins: Counter[str],
    latency_origins: Counter[str],
    groups: Sequence[MessageGroup],
    known: set[str],
) -> set[str]:
    """The services the incident touches: those the alerts name, where their traces' errors
    and latency originate, and the callees their own client-side errors name. A problem
    elsewhere in the namespace, unconnected to the alerts, stays out."""
    radius = set(alerted) | set(error_origins) | set(latency_origins)
    for group in groups:
        if classify(group.message) not in CLIENT_SIDE:
            continue
        for writer in set(group.services) & set(alerted):
            callee = dependency_named(group.message, known, writer)
            if callee:
                radius.add(callee)
    return radius
