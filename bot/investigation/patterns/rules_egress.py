"""A slow dependency outside the cluster: a service's calls to an external host slowed down.

Such a call often has no client span and no mesh metric, so the remote time shows as the
caller's own span time growing (self time no child span explains), and only the caller's
WARN/ERROR lines name the host ("Read timed out (https://api.example.com/...)"). When both
point the same way, and the lines are new since the trouble began, the finding says the
time is spent in that external dependency, outranks a coincident release of a caller (the
engine names and rejects it), names the human step (contact the provider, fail over), and
proposes scaling the service out only when its outbound pool or concurrency limit is full:
a mitigation, labelled so, with the confidence of one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from bot.investigation.patterns.base import Candidate, RuleContext, action
from bot.investigation.patterns.egress_logs import (
    WARN_LEVELS,
    external_host,
    external_peer,
    reports_saturation,
    reports_waiting,
)
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.rules_capacity import autoscalers
from bot.investigation.patterns.rules_resources import replicas_for_load
from bot.investigation.recorded import Span
from policies import ActionKind, ProposedAction
from tools.traces.summary import TraceSummary

MIN_LINES = 5  # this many warning/error lines about one host before it is named
NEW_FACTOR = 3.0  # lines per minute since the onset over those before it
SLOWEST = 5
OWN_SHARE = 0.5  # the service's own span time is at least this share of a slow trace
RECENT = timedelta(hours=2)
CONFIDENCE_TRACED = 0.75  # own-time in the traces and the logs name the host
CONFIDENCE_LOGS = 0.6  # the logs alone (no traces to say where the time goes)
CONFIDENCE_SPAN = 0.65  # a client span to the host holds the time; no log line names it
CONFIDENCE_RELEASED = 0.45  # the service was released too: its own change may be the cause
MITIGATION_CONFIDENCE = 0.5  # scaling out relieves the queue; it does not fix the host
SLOWER = 2.0  # the call's median duration since the onset over its median before


@dataclass
class HostReport:
    """What one service's warning and error lines say about one external host."""

    service: str
    host: str
    lines: int = 0
    before: int = 0
    saturated: int = 0
    example: str = ""
    saturation_example: str = ""
    per_minute: dict[str, float] = field(default_factory=dict)


def host_reports(
    lines: list[tuple[str, str, float]], known: set[str], onset: float, start: float, end: float
) -> list[HostReport]:
    """Pure: (service, message, timestamp) warning/error lines grouped by the external host
    they name as slow or timing out; `before` counts those before `onset` (from `start`),
    `lines` those from `onset` to `end`. Most lines first."""
    reports: dict[tuple[str, str], HostReport] = {}
    saturation: Counter[str] = Counter()
    saturation_text: dict[str, str] = {}
    for service, message, stamp in lines:
        if reports_saturation(message):
            saturation[service] += 1 if stamp >= onset else 0
            saturation_text.setdefault(service, message)
        host = external_host(message, known)
        if host is None or (not reports_waiting(message) and not reports_saturation(message)):
            continue
        report = reports.setdefault((service, host), HostReport(service, host))
        if stamp >= onset:
            report.lines += 1
            report.example = report.example or message
        elif stamp >= start:
            report.before += 1
    for report in reports.values():
        report.saturated = saturation[report.service]
        report.saturation_example = saturation_text.get(report.service, "")
        report.per_minute = {
            "before": report.before / max((onset - start) / 60, 1.0),
            "since": report.lines / max((end - onset) / 60, 1.0),
        }
    return sorted(reports.values(), key=lambda r: -r.lines)


def is_new(report: HostReport) -> bool:
    """Enough lines since the onset, and far more of them per minute than before it."""
    rates = report.per_minute
    return report.lines >= MIN_LINES and rates["since"] >= NEW_FACTOR * rates["before"]


@dataclass(frozen=True)
class OwnTime:
    """Where the slow traces spend their time, when a service's own span holds it."""

    service: str
    operation: str
    self_ms: float
    duration_ms: float
    peer: str | None = None
    """The external host a client span with no child names, when that span holds it."""


def own_time(traces: list[TraceSummary], known: set[str] | None = None) -> OwnTime | None:
    """Pure: the service whose own span, or client span to a host outside the cluster,
    holds most of the slowest traces' time, in most of them; None when no service does (the
    time is spread, a traced callee or a cluster peer such as the database holds it)."""
    slowest = sorted(traces, key=lambda t: -t.duration_ms)[:SLOWEST]
    if len(slowest) < 2:
        return None
    owners: Counter[tuple[str, str, str | None]] = Counter()
    example: dict[tuple[str, str, str | None], tuple[float, float]] = {}
    for trace in slowest:
        top = max(trace.slowest, key=lambda s: s.self_ms, default=None)
        if top is None or top.self_ms < OWN_SHARE * trace.duration_ms:
            continue
        peer = external_peer(top.waits_on, known or set()) if top.waits_on else None
        if top.waits_on and peer is None:
            continue  # the time of a cluster peer (the database), not an external host's
        key = (top.service, top.operation, peer)
        owners[key] += 1
        example.setdefault(key, (top.self_ms, trace.duration_ms))
    if not owners:
        return None
    key, hits = owners.most_common(1)[0]
    if hits < len(slowest) // 2 + 1:
        return None
    self_ms, duration_ms = example[key]
    return OwnTime(key[0], key[1], self_ms, duration_ms, key[2])


def slower_since(spans: list[Span], service: str, operation: str, onset: float) -> bool:
    """Pure: the operation's median duration since `onset` is `SLOWER` times its median
    before it (False without spans on both sides: nothing says it is new)."""
    before = sorted(
        s.duration_ms
        for s in spans
        if (s.service, s.operation) == (service, operation) and s.start < onset
    )
    since = sorted(
        s.duration_ms
        for s in spans
        if (s.service, s.operation) == (service, operation) and s.start >= onset
    )
    if not before or not since:
        return False
    return since[len(since) // 2] >= SLOWER * max(before[len(before) // 2], 1e-3)


def _slower_since(obs: Observations, held: OwnTime) -> bool:
    if obs.windows is None:
        return False
    pack = obs.windows.pack
    return slower_since(pack.spans, held.service, held.operation, pack.window[0])


def _same_call(report: HostReport, held: OwnTime) -> bool:
    """The log lines are about the call the traces show slow: same service, same host
    when a client span names one."""
    return report.service == held.service and held.peer in (None, report.host)


def _warning_lines(obs: Observations) -> tuple[list[tuple[str, str, float]], float, float, float]:
    """(service, message, timestamp) of every warning and error line, and the onset, start
    and end of the windows: from the before/since windows when they were read, else the
    recent error groups (all counted as since the onset)."""
    if obs.windows is not None and obs.windows.pack.logs:
        pack = obs.windows.pack
        lines = [
            (r.service, r.message, r.timestamp)
            for r in pack.logs
            if r.level.upper() in WARN_LEVELS and r.service
        ]
        return lines, pack.window[0], pack.baseline[0], pack.window[1]
    lines = []
    for group in obs.top_errors.groups if obs.top_errors else []:
        for service, count in group.services.items():
            lines += [(service, group.message, 1.0)] * count
    return lines, 0.0, 0.0, 60.0


def external_dependency(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """A service's calls out of the cluster slowed down: its logs name the external host
    (new since the onset) and, when traces were read, the slow traces' time is its own."""
    lines, onset, start, end = _warning_lines(obs)
    known = set(obs.known) | set(obs.alerted) | set(obs.graph.services)
    reports = [r for r in host_reports(lines, known, onset, start, end) if is_new(r)]
    traces = obs.traces.traces if obs.traces else []
    held = own_time(traces, known)
    if traces and held is None:
        return None  # the slow traces' time is a traced callee's, or nowhere in particular
    report = next((r for r in reports if held is None or _same_call(r, held)), None)
    if report is None and held is not None and held.peer and _slower_since(obs, held):
        report = HostReport(held.service, held.peer)  # the client span names the host
    if report is None:
        return None
    service, host = report.service, report.host
    released = next(
        (e for e in obs.timeline if e.service == service and ctx.now - e.at <= RECENT), None
    )
    confidence = (
        CONFIDENCE_TRACED if held and report.lines else CONFIDENCE_SPAN if held else CONFIDENCE_LOGS
    )
    if released is not None:
        confidence = CONFIDENCE_RELEASED
    where = (
        f" The slow traces' time is in {service}'s client call to {host} ({held.operation}: "
        f"{held.self_ms:.0f} of {held.duration_ms:.0f} ms)."
        if held and held.peer
        else f" The slow traces' time is {service}'s own ({held.operation}: "
        f"{held.self_ms:.0f} of {held.duration_ms:.0f} ms) with no span of an in-cluster "
        f"callee under it, as an uninstrumented outbound call looks."
        if held
        else ""
    )
    said = (
        f"{report.lines} warning/error line(s) of {service} report slow or timed-out "
        f"outbound calls to it since the trouble began ({report.before} before)"
        if report.lines
        else f"the slow traces of {service} spend their time in its calls to it"
    )
    named = f" Its logs name the host: {report.example[:200]!r}." if report.example else ""
    unchanged = (
        f" {service} itself was released at {released.at:%H:%M}Z (revision "
        f"{released.revision}); its own change may have made the calls slow."
        if released
        else f" {service} itself was not changed (no rollout of it in the last two hours)."
    )
    pool = (
        f" Its outbound connection pool is full: {report.saturated} line(s) like "
        f"{report.saturation_example[:160]!r}, so requests queue for a connection and time out."
        if report.saturated
        else ""
    )
    return Candidate(
        "external-dependency",
        f"{service} is waiting on an external dependency outside the cluster, {host}: {said}.",
        f"The time is spent in an external dependency: {service}'s outbound calls to {host} "
        f"(outside the cluster) slowed down.{named}{where}{pool}{unchanged}",
        confidence,
        obs.cite("traces", "top_errors", "windows:logs", "deployment"),
        _mitigation(obs, ctx, service, host) if report.saturated and not released else [],
        [
            f"A human must first contact the provider of {host} (status page, support) or "
            "fail over to a backup provider: no action kind can make it faster.",
            f"Bound {service}'s timeout to {host} and add a circuit breaker, so a slow "
            "provider fails fast instead of holding every request.",
        ]
        + (
            [
                f"HPA {managed.name} sets the replicas of {service}: raise its maxReplicas to "
                "scale out while the provider is slow."
            ]
            if report.saturated and (managed := autoscalers(obs).get(service))
            else []
        ),
        [service],
        "latency",
    )


def _mitigation(
    obs: Observations, ctx: RuleContext, service: str, host: str
) -> list[ProposedAction]:
    """Scale the service out, labelled a mitigation: each new pod brings its own outbound
    pool, so fewer requests queue while the host is slow. None when an HPA sets the replicas
    (it would set them back) or the replicas are unknown."""
    deployment = obs.deployments.get(service) or (
        obs.deployment if obs.deployment and obs.deployment.name == service else None
    )
    if deployment is None or not deployment.desired or service in autoscalers(obs):
        return []
    scope = Observations(namespace=obs.namespace, service=service, deployment=deployment)
    replicas = replicas_for_load(deployment.desired, None)
    return action(
        scope,
        ctx,
        ActionKind.SCALE_DEPLOYMENT,
        service,
        f"mitigation, not a fix: each new pod brings its own outbound pool to {host}, so "
        f"fewer requests queue for a connection while {host} is slow",
        MITIGATION_CONFIDENCE,
        {"replicas": replicas, "previous_replicas": deployment.desired},
    )
