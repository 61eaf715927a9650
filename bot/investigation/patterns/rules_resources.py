"""Rules about resources and dependencies: CPU throttling, nodes, database pools and
slow downstream calls."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import datetime, timedelta

from bot.investigation.change_timeline import ChangeEvent
from bot.investigation.patterns.base import Candidate, RuleContext, action
from bot.investigation.patterns.db_refusal import (
    database_clients,
    onset,
    server_refusals,
    slot_taker,
)
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.pool_starvation import starved_by_slow_statements
from bot.investigation.patterns.rules_capacity import autoscalers
from bot.investigation.patterns.trace_culprits import Culprit, repeated_before, slow_culprit
from policies import ActionKind, ProposedAction
from policies.actions import MAX_SCALE_REPLICAS
from tools.k8s.deployments import DeploymentData, RevisionInfo
from tools.logs.aggregation_tools import MessageGroup

THROTTLED = 0.25
MAX_SCALE_FACTOR = 4.0  # a proposal never more than quadruples a workload's replicas
DB_POOL = re.compile(
    r"connection pool (?:is )?exhausted|timeout (?:waiting|acquiring) (?:for )?(?:a )?connection"
    r"|connection is not available, request timed out|QueuePool limit .* reached"
    r"|too many (?:clients|connections)|remaining connection slots are reserved"
    r"|could not obtain (?:a )?(?:jdbc )?connection|pool timeout",
    re.IGNORECASE,
)
RECENT = timedelta(hours=2)
UNSCOPED_LOGS_PENALTY = 0.2  # without a service, log errors may come from anywhere
USUAL_REPEAT_CONFIDENCE = 0.3  # an N+1 already there before the alert, with no release


def cpu_throttling(obs: Observations, ctx: RuleContext) -> Candidate | None:
    data = obs.ranges.get("cpu_throttling")
    series = data.series[0] if data and data.series else None
    if series is None or series.last is None or series.last < THROTTLED or not obs.service:
        return None
    name = obs.service
    desired = obs.deployment.desired if obs.deployment else None
    confidence = 0.75
    actions = []
    context = _load_context(obs)
    lowered = next(
        (
            e
            for e in obs.timeline
            if e.service == name and e.lowered_cpu and ctx.now - e.at <= RECENT
        ),
        None,
    )
    if lowered is not None and lowered.lowered_cpu is not None:
        old, new = lowered.lowered_cpu
        confidence = 0.85
        return Candidate(
            "cpu-throttling",
            f"{name} is CPU-throttled since revision {lowered.revision} lowered its CPU limit "
            f"from {old} to {new}: {series.last:.0%} of its CFS periods are throttled{context}.",
            f"Revision {lowered.revision} of {name} ({lowered.what}) lowered the CPU limit to "
            f"{new}; at the same traffic the pods hit it, the kernel throttles them and "
            "requests queue (latency rises).",
            confidence,
            obs.cite("metric:cpu_throttling", "deployment"),
            action(
                obs,
                ctx,
                ActionKind.ROLLBACK_DEPLOYMENT,
                name,
                f"revision {lowered.revision} lowered the CPU limit from {old} to {new}",
                confidence,
            ),
            [f"Keep the CPU limit of {name} at {old} or more (or remove it)."],
        )
    managed = autoscalers(obs).get(name)
    if desired and managed is None:  # an HPA would set the replicas back
        replicas = replicas_for_load(desired, _load_ratio(obs))
        actions = action(
            obs,
            ctx,
            ActionKind.SCALE_DEPLOYMENT,
            name,
            f"{series.last:.0%} of CPU periods are throttled",
            confidence,
            {"replicas": replicas, "previous_replicas": desired},
        )
    return Candidate(
        "cpu-throttling",
        f"{name} is CPU-throttled: {series.last:.0%} of its CFS periods are throttled "
        f"(average {series.avg or 0:.0%} over the window){context}.",
        f"The pods of {name} hit their CPU limit, so the kernel throttles them and requests "
        "queue up (latency rises).",
        confidence,
        obs.cite("metric:cpu_throttling", "deployment"),
        actions,
        [f"Raise the CPU limit of {name} (or remove it and keep the request)."]
        + (
            [f"HPA {managed.name} sets the replicas of {name}: raise its maxReplicas to scale."]
            if managed
            else []
        ),
    )


def node_problem(obs: Observations, ctx: RuleContext) -> Candidate | None:
    nodes = [n for n in (obs.nodes.nodes if obs.nodes else []) if n.problems]
    if not nodes:
        return None
    not_ready = [n for n in nodes if n.ready != "True"]
    worst = not_ready[0] if not_ready else nodes[0]
    problems = ", ".join(f"{p.type}={p.status}" for p in worst.problems)
    confidence = 0.85 if not_ready else 0.75
    bad = {n.name for n in nodes}
    scoped = obs.pods.pods if obs.pods else []
    if obs.service and scoped and not any(p.node in bad for p in scoped):
        confidence = 0.45  # the service's pods do not run there: context, not the cause
    actions = [
        proposal
        for node in (not_ready or nodes)[:3]
        if not node.unschedulable
        for proposal in _cordon(node.name, obs, ctx, confidence)
    ]
    disk = any(p.type == "DiskPressure" for p in worst.problems)
    state = "NotReady" if worst.ready != "True" else "unhealthy"
    taints = f"; taints {', '.join(worst.taints[:3])}" if worst.taints else ""
    phases = Counter(p.phase for p in scoped if p.phase != "Running")
    stuck = ", ".join(f"{n} {phase}" for phase, n in sorted(phases.items()))
    return Candidate(
        "node-problem",
        f"Node {worst.name} is {state} ({problems}{taints})"
        + (f"; {len(nodes) - 1} more node(s) with problems." if len(nodes) > 1 else "."),
        f"Node {worst.name} "
        + (
            "stopped being Ready: its kubelet is not reporting or failing, so its pods are lost."
            if not_ready
            else "is under resource pressure and evicts or slows its pods."
        )
        + (f" Pods not running: {stuck}." if stuck else ""),
        confidence,
        obs.cite("nodes", "events"),
        actions,
        [
            "Free disk space on the node (images, logs) or grow its disk."
            if disk
            else "Drain the node once it is cordoned, then repair or replace it."
        ],
    )


def _cordon(
    name: str, obs: Observations, ctx: RuleContext, confidence: float
) -> list[ProposedAction]:
    return action(
        obs,
        ctx,
        ActionKind.CORDON_NODE,
        name,
        f"keep new pods off {name} while it is unhealthy",
        confidence,
    )


def db_pool(obs: Observations, ctx: RuleContext) -> Candidate | None:
    groups = [
        g for g in (obs.top_errors.groups if obs.top_errors else []) if DB_POOL.search(g.message)
    ]
    if not groups:
        return None
    count = sum(g.count for g in groups)
    services: Counter[str] = Counter()
    for group in groups:
        services.update(group.services)
    service = (
        obs.service
        if obs.service in services
        else services.most_common(1)[0][0]
        if services
        else obs.service
    )
    refusals = server_refusals(groups)
    if refusals:
        taker = slot_taker(
            obs.timeline,
            database_clients(obs.traces.traces if obs.traces else []),
            set(services),
            onset(refusals),
            ctx.now,
        )
        if taker is not None:
            return _slots_taken(obs, ctx, taker, refusals, services)
    if service:
        starved = starved_by_slow_statements(obs, ctx, service, groups)
        if starved is not None:
            return starved
    confidence = 0.75 - (0.0 if obs.service else UNSCOPED_LOGS_PENALTY)
    return Candidate(
        "db-connection-pool",
        f"{service or 'A service'} cannot get database connections: {count} errors like "
        f"{groups[0].message[:120]!r}.",
        "The database connection pool is exhausted: connections are held too long (slow "
        "queries, leaks) or the pool is too small, so requests time out waiting for one.",
        confidence,
        obs.cite("top_errors", "traces"),
        action(
            obs,
            ctx,
            ActionKind.RESTART_DEPLOYMENT,
            service or "",
            "release the held database connections",
            confidence,
        )
        if service
        else [],
        [
            "Look for slow queries or connections not returned to the pool; size the pool "
            "against the database's max_connections."
        ],
    )


def _slots_taken(
    obs: Observations,
    ctx: RuleContext,
    taker: ChangeEvent,
    refusals: list[MessageGroup],
    reporters: Counter[str],
) -> Candidate:
    """The database refuses everyone since a client's release: roll that release back."""
    count = sum(g.count for g in refusals)
    victims = ", ".join(sorted(reporters)) or "its clients"
    tags = [image.rsplit(":", 1)[-1] for image in taker.images if ":" in image]
    version = f" ({', '.join(tags)})" if tags else ""
    confidence = 0.75
    scope = Observations(namespace=taker.namespace, service=taker.service)
    reason = (
        f"the database refuses new connections since revision {taker.revision} of "
        f"{taker.service} went out"
    )
    return Candidate(
        "db-connection-pool",
        f"The database refuses new connections (too many clients): {count} errors in "
        f"{victims}, since {taker.service} revision {taker.revision}{version} went out at "
        f"{taker.at:%H:%M}Z.",
        f"The database's connection slots are used up, so it refuses new connections from "
        f"every client ({victims}: {refusals[0].message[:120]!r}). The refusals "
        f"began after the release of {taker.service} revision {taker.revision}{version} "
        f"({taker.what}), a client of the same database: a release is what changes how many "
        f"connections its pool holds. Those that report the refusal are its victims.",
        confidence,
        obs.cite("top_errors", "traces", "deployment"),
        action(scope, ctx, ActionKind.ROLLBACK_DEPLOYMENT, taker.service, reason, confidence),
        [
            f"Check the connection pool settings of {taker.service}'s new revision against "
            "the database's max_connections (pool size x replicas of every client)."
        ],
    )


def slow_dependency(obs: Observations, ctx: RuleContext) -> Candidate | None:
    entry = obs.alerted[0] if obs.alerted else obs.service
    culprit = slow_culprit(obs.traces.traces if obs.traces else [], entry)
    if culprit is None:
        return None
    service, operation = culprit.service, culprit.operation
    deployed = recent_revision(obs.dependency, ctx.now)
    # the release and the mechanism the traces show are two independent pieces of evidence
    confidence = (0.85 if culprit.kind == "n-plus-one" else 0.75) if deployed else 0.65
    usual = ""
    if not deployed and culprit.kind == "n-plus-one" and _usual_repeat(obs, culprit):
        confidence = USUAL_REPEAT_CONFIDENCE  # nothing says it is new: context, not cause
        usual = " The same repetition ran in the half hour before the alert, so it is usual."
    actions = (
        action(
            obs,
            ctx,
            ActionKind.ROLLBACK_DEPLOYMENT,
            service,
            f"the slowness started with revision {deployed.revision} of {service}",
            confidence,
        )
        if deployed and obs.dependency and obs.dependency.name == service
        else []
    )
    since = (
        f" Revision {deployed.revision}{_tags(deployed.images)} of {service} went out "
        f"at {deployed.created:%H:%M}Z, before the slowness."
        if deployed and deployed.created
        else ""
    )
    if culprit.kind == "n-plus-one":
        return Candidate(
            "n-plus-one",
            f"Slow requests of {entry} repeat {operation} in {service} "
            f"{culprit.count}+ times per trace.",
            f"An N+1 query pattern in {service}: it runs {operation} once per item instead "
            f"of once per request.{since}{usual}",
            confidence,
            obs.cite("traces", "dependency"),
            actions,
            [f"Batch the {operation} calls (one query with IN (...) or a join)."],
        )
    return Candidate(
        "slow-dependency",
        f"Slow requests of {entry} spend most of their time in {service} {operation}.",
        f"The dependency {service} ({operation}) is slow and dominates the latency of "
        f"{obs.service}.{since}",
        confidence,
        obs.cite("traces", "dependency", "metric:latency_p95"),
        actions,
        [f"Investigate {service}: its own latency, saturation and recent changes."],
    )


def _usual_repeat(obs: Observations, culprit: Culprit) -> bool:
    """The repetition already shows in the fault-free traces before the alert."""
    if obs.windows is None:
        return False
    pack = obs.windows.pack
    baseline = [s for s in pack.spans if pack.baseline[0] <= s.start <= pack.baseline[1]]
    return repeated_before(culprit, baseline)


def _tags(images: list[str]) -> str:
    """` (2.4.0)`: the image tags of a revision, the version people call it by."""
    tags = [image.rsplit(":", 1)[-1] for image in images if ":" in image.rsplit("/", 1)[-1]]
    return f" ({', '.join(tags)})" if tags else ""


def recent_revision(deployment: DeploymentData | None, now: datetime) -> RevisionInfo | None:
    """The current revision when it went out in the last two hours (and had a predecessor)."""
    if deployment is None or len(deployment.revisions) < 2:
        return None
    current = next((r for r in deployment.revisions if r.current), deployment.revisions[0])
    if current.created is None or now - current.created > RECENT:
        return None
    return current


def replicas_for_load(desired: int, ratio: float | None) -> int:
    """How many replicas carry a load `ratio` times the one the `desired` replicas carried
    unthrottled: the replicas grow with the load (at least one more, at most
    `MAX_SCALE_FACTOR` times as many; the policy caps the count further). Without a measured
    ratio, half as many again."""
    if ratio is None:
        return desired + max(1, desired // 2)
    wanted = math.ceil(desired * min(ratio, MAX_SCALE_FACTOR) - 1e-9)
    return min(max(wanted, desired + 1), MAX_SCALE_REPLICAS)


def _load_ratio(obs: Observations) -> float | None:
    """The service's request rate now over its usual rate (the median of the window's first
    third: one low first sample, a rate window still filling, must not inflate it); None
    when not measured."""
    rate = obs.ranges.get("request_rate")
    series = rate.series[0] if rate and rate.series else None
    if series is None or series.last is None or len(series.values) < 3:
        return None
    early = sorted(v for _, v in series.values[: max(1, len(series.values) // 3)])
    usual = early[len(early) // 2]
    return series.last / usual if usual > 0 else None


def _load_context(obs: Observations) -> str:
    """`; traffic rose 2.3x, p95 latency 0.8s` from the service's RED metrics."""
    parts = []
    ratio = _load_ratio(obs)  # against the usual rate, not the window's first sample
    if ratio is not None and ratio >= 1.3:
        parts.append(f"traffic rose {ratio:.1f}x")
    latency = obs.ranges.get("latency_p95")
    lat = latency.series[0] if latency and latency.series else None
    if lat and lat.last is not None:
        parts.append(f"p95 latency {lat.last:.2f}s")
    return "; " + ", ".join(parts) if parts else ""
