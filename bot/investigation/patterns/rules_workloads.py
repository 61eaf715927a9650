"""Rules about workloads: OOM kills, image pulls, failed rollouts, regressions at a deploy."""

from __future__ import annotations

from datetime import timedelta

from bot.investigation.change_timeline import ChangeEvent
from bot.investigation.patterns.base import (
    Candidate,
    RuleContext,
    action,
    amount_of,
    current_revision,
    image_tags,
    pods_of,
    previous_revision,
    quantity_text,
    raise_limit,
    template_container,
    top_error_of,
    workload_of,
)
from bot.investigation.patterns.observe import Observations
from bot.investigation.service_graph import error_origins, latency_origins
from policies import ActionKind, ProposedAction
from policies.quantities import bytes_text, parse_bytes

PULL_ERRORS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull")
REGRESSION_SIGNALS = ("error_ratio", "latency_p95")
DEPLOY_BEFORE = timedelta(minutes=20)
DEPLOY_AFTER = timedelta(minutes=5)
RECENT_DEPLOY = timedelta(hours=2)


def oom_kill(obs: Observations, ctx: RuleContext) -> Candidate | None:
    killed = [
        (pod, c)
        for pod in pods_of(obs)
        for c in pod.containers
        if "OOMKilled" in (c.last_termination_reason, c.reason)
    ]
    if not killed:
        return None
    pods = sorted({pod.name for pod, _ in killed})
    container = killed[0][1].name
    restarts = sum(pod.restarts for pod, _ in killed)
    workload = workload_of(obs, [pod for pod, _ in killed])
    # the focus's limit and revision describe the killed workload only when it is the focus
    own = workload is not None and workload in (obs.service, _deployment_name(obs))
    limit = _memory_limit(obs) if own else _template_limit(obs, workload, container)
    lowered = _lowered_memory_limit(obs) if own else _lowered_in_timeline(obs, workload)
    confidence = 0.9 if restarts >= 2 else 0.75
    where = f" (memory limit {limit})" if limit else ""
    summary = (
        f"{len(pods)} pod(s) of {workload or 'the workload'} are OOM-killed in a loop: "
        f"container {container}{where}, {restarts} restarts."
    )
    evidence = obs.cite(
        "pods", "events", "metric:memory_usage_ratio", "deployment", f"resources:{workload}"
    )
    if lowered is not None and workload:
        old, new, revision = lowered
        cause = (
            f"Revision {revision} lowered the memory limit of {container} from {old} to {new}; "
            "the containers now exceed it and are killed (OOMKilled, exit 137)."
        )
        return Candidate(
            "oom-kill",
            summary,
            cause,
            confidence,
            evidence,
            action(
                obs,
                ctx,
                ActionKind.ROLLBACK_DEPLOYMENT,
                workload,
                f"undo revision {revision}, which lowered the memory limit to {new}",
                confidence,
            ),
            [f"Keep the memory limit of {container} at {old} or more."],
        )
    release = _release_before_kills(obs, workload, ctx)
    if release is not None and workload:
        cause = (
            f"A memory leak introduced by the release of {workload} (revision "
            f"{release.revision}, {release.what}) at {release.at:%H:%M}Z: the memory limit"
            f"{where} did not change, yet since that release every container grows until the "
            "kernel kills it (OOMKilled, exit 137)."
        )
        return Candidate(
            "oom-kill",
            summary,
            cause,
            0.85,
            evidence,
            action(
                obs,
                ctx,
                ActionKind.ROLLBACK_DEPLOYMENT,
                workload,
                f"the OOM kills began with revision {release.revision}; a restart or a bigger "
                "limit only delays each kill",
                0.85,
            ),
            ["A restart only resets the clock; find what the release keeps in memory."],
        )
    cause = (
        f"Container {container} needs more memory than its limit{where} (no release of "
        f"{workload or 'it'} explains it: the limit is undersized for its working set) and is "
        "killed by the kernel (OOMKilled, exit 137), then restarted with back-off."
    )
    # the focus's limits come from kube-state-metrics, another workload's from its template
    raise_limit = _raise_memory(obs, ctx, workload or "", container, confidence)
    stopgap = action(
        obs,
        ctx,
        ActionKind.RESTART_DEPLOYMENT,
        workload or "",
        "stop-gap only: clears the back-off; the pods will be killed again until the limit "
        "is raised",
        min(confidence, 0.5),
    )
    advice = f"Raise the memory limit of {container}" + (
        f" above {limit} (for example to {_doubled(limit)})" if limit else ""
    )
    return Candidate(
        "oom-kill",
        summary,
        cause,
        confidence,
        evidence,
        raise_limit + stopgap,
        [advice + " (set_resources restarts the pods: RISKY); a restart alone is a stop-gap."],
    )


def _release_before_kills(
    obs: Observations, workload: str | None, ctx: RuleContext
) -> ChangeEvent | None:
    """The workload's rollout in the last two hours, its new pods being the ones killed."""
    if not workload:
        return None
    release = next(
        (
            e
            for e in obs.timeline
            if e.service == workload
            and ctx.now - e.at <= RECENT_DEPLOY
            and e.lowered_memory is None
        ),
        None,
    )
    if release is None:
        return None
    killed_images = {
        c.image
        for pod in pods_of(obs)
        for c in pod.containers
        if "OOMKilled" in (c.last_termination_reason, c.reason)
    }
    return release if not killed_images or killed_images & set(release.images) else None


def _raise_memory(
    obs: Observations, ctx: RuleContext, workload: str, container: str, confidence: float
) -> list[ProposedAction]:
    """set_resources doubling the memory limit, every other field kept as it is."""
    if not workload:
        return []
    why = f"raise the memory limit of {container} from {{before}} to {{after}}: the limit is "
    why += "undersized"
    return raise_limit(obs, ctx, (workload, container), "memory", why, confidence)


def bad_image(obs: Observations, ctx: RuleContext) -> Candidate | None:
    stuck = [(pod, c) for pod in pods_of(obs) for c in pod.containers if c.reason in PULL_ERRORS]
    if not stuck:
        return None
    container = stuck[0][1]
    workload = workload_of(obs, [p for p, _ in stuck])
    previous = previous_revision(obs)
    confidence = 0.9 if previous is not None else 0.75
    back_to = f" (revision {previous.revision}, {', '.join(previous.images)})" if previous else ""
    return Candidate(
        "bad-image",
        f"{len(stuck)} pod(s) of {workload or 'the workload'} cannot pull image "
        f"{container.image} ({container.reason}).",
        f"The image {container.image} cannot be pulled (wrong tag, missing image or registry "
        "credentials), so new pods never start.",
        confidence,
        obs.cite("pods", "events", "deployment"),
        action(
            obs,
            ctx,
            ActionKind.ROLLBACK_DEPLOYMENT,
            workload or "",
            f"roll back to the last image that ran{back_to}",
            confidence,
        ),
        [f"Check that {container.image} exists and the pull secret is valid."],
    )


def failed_rollout(obs: Observations, ctx: RuleContext) -> Candidate | None:
    deployment, current = obs.deployment, current_revision(obs)
    if deployment is None or current is None or previous_revision(obs) is None:
        return None
    stalled = any(c.type == "Progressing" and c.status == "False" for c in deployment.conditions)
    new_pods = [p for p in pods_of(obs) if p.owner == f"ReplicaSet/{current.replicaset}"]
    failing = [p for p in new_pods if not p.healthy]
    probe_failures = [
        e
        for e in (obs.events.events if obs.events else [])
        if e.reason in ("Unhealthy", "BackOff") and current.replicaset in e.object
    ]
    recent = current.created is not None and ctx.now - current.created <= RECENT_DEPLOY
    if not recent or not (stalled or (failing and (probe_failures or deployment.unavailable))):
        return None
    sick_nodes = {n.name for n in (obs.nodes.nodes if obs.nodes else []) if n.ready != "True"}
    if failing and all(p.node in sick_nodes for p in failing):
        return None  # the pods were lost with their node: the node rule explains it
    confidence = 0.85 if stalled else 0.75
    changed = "; ".join(c.describe() for c in current.changes) or "the pod template"
    waiting = sorted({c.reason for p in failing for c in p.containers if c.reason})
    error = top_error_of(obs, deployment.name)
    return Candidate(
        "failed-rollout",
        f"The rollout of {deployment.name} to revision {current.revision} "
        f"({image_tags(current.images)}) is failing: {len(failing)} new pod(s) not ready"
        + (f" ({', '.join(waiting)})" if waiting else "")
        + f", {deployment.unavailable} unavailable.",
        f"Revision {current.revision} ({changed}) does not become ready"
        + (" and exceeded its progress deadline." if stalled else ".")
        + (f" Its pods fail with: {error!r}." if error else ""),
        confidence,
        obs.cite("deployment", "pods", "events"),
        action(
            obs,
            ctx,
            ActionKind.ROLLBACK_DEPLOYMENT,
            deployment.name,
            f"revision {current.revision} never became ready",
            confidence,
        ),
    )


def originates_elsewhere(obs: Observations, service: str, *, errors: bool) -> bool:
    """The traces show where the errors (or the latency) start, and it is never in
    `service`: its jump is its callees' trouble passed on, not its own release's. Time a
    service spends waiting on an untraced peer (its database) is the peer's."""
    traces = obs.traces.traces if obs.traces else []
    origins = error_origins(traces) if errors else latency_origins(traces, peers=True)
    return bool(origins) and service not in origins


def deploy_regression(obs: Observations, ctx: RuleContext) -> Candidate | None:
    current = current_revision(obs)
    if current is None or current.created is None or previous_revision(obs) is None:
        return None
    for change in ctx.changes:
        signal = next(
            (
                s
                for s in REGRESSION_SIGNALS
                if obs.ranges.get(s) and obs.ranges[s].query == change.query
            ),
            None,
        )
        if signal is None or change.after <= change.before:
            continue
        if not current.created - DEPLOY_AFTER <= change.at <= current.created + DEPLOY_BEFORE:
            continue
        name = obs.deployment.name if obs.deployment else obs.service or ""
        if originates_elsewhere(obs, name, errors=signal == "error_ratio"):
            continue  # a coincident deploy: its own spans pass on a callee's trouble
        what = "error rate" if signal == "error_ratio" else "p95 latency"
        changed = "; ".join(c.describe() for c in current.changes) or "a new pod template"
        error = top_error_of(obs, name)
        return Candidate(
            "deploy-regression",
            f"The {what} of {name} jumped from {change.before:.3g} to {change.after:.3g} "
            f"right after the rollout of revision {current.revision} "
            f"({image_tags(current.images)}).",
            f"The deploy of revision {current.revision} ({changed}) introduced the regression: "
            f"the {what} changed when it went out and not before."
            + (f" The errors read: {error!r}." if error else ""),
            0.8,
            obs.cite(f"metric:{signal}", "deployment"),
            action(
                obs,
                ctx,
                ActionKind.ROLLBACK_DEPLOYMENT,
                name,
                f"the {what} jumped when revision {current.revision} went out",
                0.8,
            ),
        )
    return None


def _deployment_name(obs: Observations) -> str | None:
    return obs.deployment.name if obs.deployment else None


def _lowered_in_timeline(obs: Observations, workload: str | None) -> tuple[str, str, int] | None:
    """(old, new, revision) when the change timeline shows `workload`'s current revision
    lowered its memory limit."""
    for event in obs.timeline:
        if event.service == workload and event.lowered_memory:
            old, new = event.lowered_memory
            return old, new, event.revision
    return None


def _memory_limit(obs: Observations) -> str | None:
    data = obs.instants.get("memory_limit_bytes")
    if data is not None and data.samples:
        return bytes_text(data.samples[0].value)
    current = current_revision(obs)
    for change in current.changes if current else []:
        if change.field.endswith(".resources.limits.memory") and change.new:
            return change.new
    return None


def _template_limit(obs: Observations, workload: str | None, container: str) -> str | None:
    """The memory limit of `container` in the pod template of `workload`, when it was read
    (an OOM-killed workload that is not the focus)."""
    spec = template_container(obs, workload or "", container)
    written = spec.limits.get("memory") if spec else None
    amount = amount_of("memory", written) if written else None
    return quantity_text("memory", amount) if amount else None  # as the action will write it


def _lowered_memory_limit(obs: Observations) -> tuple[str, str, int] | None:
    current = current_revision(obs)
    for change in current.changes if current else []:
        if not change.field.endswith(".resources.limits.memory") or not change.old:
            continue
        if change.new and _smaller(change.new, change.old):
            return change.old, change.new, current.revision if current else 0
    return None


def _smaller(new: str, old: str) -> bool:
    try:
        return parse_bytes(new) < parse_bytes(old)
    except ValueError:
        return False


def _doubled(limit: str) -> str:
    try:
        return bytes_text(parse_bytes(limit) * 2)
    except ValueError:
        return "twice that"
