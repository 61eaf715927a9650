"""Rules about capacity the workload itself cannot fix: an autoscaler held at its maximum,
and a node whose CPUs are contended by another workload (a noisy neighbour).

Both read what a real cluster publishes: kube-state-metrics' `kube_horizontalpodautoscaler_*`
series, node-exporter's CPU pressure (PSI) and cAdvisor's per-pod CPU use with its `node`
label, plus the pods' nodes from the Kubernetes API. Neither answers with a restart or a
rollback: neither changes capacity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.investigation.patterns.base import (
    Candidate,
    RuleContext,
    action,
    pods_of,
    raise_limit,
)
from bot.investigation.patterns.observe import Observations, deployment_of_pod_owner
from policies import ActionKind, ProposedAction

THROTTLED = 0.25  # share of CFS periods, as the CPUThrottlingHigh alert
NODE_PRESSURE = 0.3  # share of time some runnable task waited for a CPU (PSI "some")
CALM_NODE = 0.1  # a node below this is not contended
HPA_KIND = "Deployment"


@dataclass(frozen=True)
class Autoscaler:
    name: str
    target: str
    replicas: int | None  # current replicas when at max, else None
    limited: bool


def autoscalers(obs: Observations) -> dict[str, Autoscaler]:
    """Deployment name -> the HPA scaling it, with whether it sits at its maximum."""
    info = obs.instants.get("autoscalers")
    at_max = obs.instants.get("autoscaler_at_max")
    limited = obs.instants.get("autoscaler_limited")
    full = {
        s.labels.get("horizontalpodautoscaler", ""): int(s.value)
        for s in (at_max.samples if at_max else [])
    }
    capped = {
        s.labels.get("horizontalpodautoscaler", "") for s in (limited.samples if limited else [])
    }
    found: dict[str, Autoscaler] = {}
    for sample in info.samples if info else []:
        labels = sample.labels
        if labels.get("scaletargetref_kind", HPA_KIND) != HPA_KIND:
            continue
        name = labels.get("horizontalpodautoscaler", "")
        target = labels.get("scaletargetref_name", "")
        if name and target:
            found[target] = Autoscaler(name, target, full.get(name), name in capped)
    return found


def _throttled(obs: Observations) -> float | None:
    data = obs.ranges.get("cpu_throttling")
    series = data.series[0] if data and data.series else None
    return series.last if series else None


def _latency_rose(obs: Observations) -> bool:
    data = obs.ranges.get("latency_p95")
    series = data.series[0] if data and data.series else None
    return bool(series and series.first and series.last and series.last >= 1.5 * series.first)


def autoscaler_at_max(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """The service's HPA is at maxReplicas and wants more while its pods are saturated:
    capacity is capped by the HPA, so neither a restart nor a rollback helps, and scaling
    the deployment by hand is undone by the HPA."""
    name = obs.service
    hpa = autoscalers(obs).get(name or "")
    if name is None or hpa is None or hpa.replicas is None:
        return None
    throttled = _throttled(obs)
    saturated = throttled is not None and throttled >= THROTTLED
    if not (hpa.limited or saturated):
        return None
    if not (saturated or _latency_rose(obs)):
        return None
    confidence = 0.85 if hpa.limited and saturated else 0.8
    wants = " and wants more (ScalingLimited: the desired count is above the maximum)"
    pressure = f"; {throttled:.0%} of its CFS periods are throttled" if saturated else ""
    return Candidate(
        "autoscaler-at-max",
        f"{name} is out of capacity: its HPA {hpa.name} is at maxReplicas ({hpa.replicas})"
        f"{wants if hpa.limited else ''}{pressure}.",
        f"{name} needs more capacity than its HorizontalPodAutoscaler may give: the HPA holds "
        f"it at its maximum of {hpa.replicas} replicas, so the load beyond that lands on the "
        "same pods, which run at their CPU limit and queue requests (latency rises). Nothing "
        "is broken: a restart or a rollback does not add capacity, and scaling the "
        "deployment by hand is undone by the HPA.",
        confidence,
        obs.cite("metric:autoscaler_at_max", "metric:autoscaler_limited", "metric:cpu_throttling"),
        _raise_cpu_limit(obs, ctx, name, confidence),
        [
            f"Raise maxReplicas of HPA {obs.namespace}/{hpa.name} above {hpa.replicas} "
            "(no action kind edits an HPA) once the nodes have room for more pods.",
            f"Do not scale {name} by hand: the HPA sets it back to {hpa.replicas}.",
        ],
    )


def _raise_cpu_limit(
    obs: Observations, ctx: RuleContext, workload: str, confidence: float
) -> list[ProposedAction]:
    """set_resources doubling the CPU limit of the service's container, the rest kept."""
    pods = [p for p in pods_of(obs) if deployment_of_pod_owner(p.owner) == workload]
    container = pods[0].containers[0].name if pods and pods[0].containers else None
    if container is None:
        return []
    why = "more CPU per pod ({before} -> {after}): the HPA cannot add pods beyond its maximum"
    return raise_limit(obs, ctx, (workload, container), "cpu", why, confidence)


@dataclass(frozen=True)
class CpuUser:
    namespace: str
    pod: str
    cores: float
    unlimited: bool


def node_pressure(obs: Observations) -> dict[str, float]:
    """Node name -> CPU pressure (share of time some task waited for a CPU)."""
    data = obs.instants.get("node_cpu_pressure")
    found: dict[str, float] = {}
    for sample in data.samples if data else []:
        node = sample.labels.get("node") or sample.labels.get("instance", "").split(":")[0]
        if node:
            found[node] = max(found.get(node, 0.0), sample.value)
    return found


def cpu_users(obs: Observations) -> dict[str, list[CpuUser]]:
    """Node name -> its biggest CPU users, biggest first."""
    top = obs.instants.get("node_top_cpu")
    free = obs.instants.get("node_top_unlimited_cpu")
    unlimited = {
        (s.labels.get("namespace"), s.labels.get("pod")) for s in (free.samples if free else [])
    }
    found: dict[str, list[CpuUser]] = defaultdict(list)
    for sample in top.samples if top else []:
        labels = sample.labels
        key = (labels.get("namespace"), labels.get("pod"))
        found[labels.get("node", "")].append(
            CpuUser(str(key[0]), str(key[1]), sample.value, key in unlimited)
        )
    return {node: sorted(users, key=lambda u: -u.cores) for node, users in found.items()}


def node_cpu_contention(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """Some of the scope's pods run on a node whose CPUs are contended while the other nodes
    are calm, and the node's biggest CPU user is not the scope's own service: the node (a
    noisy neighbour on it) is the cause, not the services that happen to run there."""
    pressure = node_pressure(obs)
    pods = [p for p in pods_of(obs) if p.node and p.phase == "Running"]
    if not pressure or not pods:
        return None
    contended = {n for n, v in pressure.items() if v >= NODE_PRESSURE}
    calm = {n for n, v in pressure.items() if v < CALM_NODE}
    if not contended or not calm:
        return None  # every node is busy: the cluster is short of CPU, not one node
    node = max(contended, key=lambda n: pressure[n])
    victims = [p for p in pods if p.node == node]
    elsewhere = [p for p in pods if p.node in calm]
    if not victims:
        return None
    users = cpu_users(obs).get(node, [])
    victim_names = {(p.namespace, p.name) for p in victims}
    focus = obs.service
    hog = next((u for u in users if (u.namespace, u.pod) not in victim_names), None)
    if hog is None:
        return None
    if focus and users[0].pod.startswith(f"{focus}-") and users[0].namespace == obs.namespace:
        return None  # the focus service itself is what burns the node
    throttled = _throttled(obs)
    own_limit = throttled is not None and throttled >= THROTTLED
    confidence = 0.8 if elsewhere else 0.7
    if own_limit:
        confidence -= 0.15  # the service also hits its own limit: two causes at once
    services = sorted({deployment_of_pod_owner(p.owner) or p.name for p in victims})
    limit = " and has no CPU limit" if hog.unlimited else ""
    healthy = (
        f" The same services' pods on {', '.join(sorted({p.node or '' for p in elsewhere}))} "
        "are not affected."
        if elsewhere
        else ""
    )
    return Candidate(
        "node-cpu-contention",
        f"Node {node}'s CPUs are contended (tasks waited for a CPU {pressure[node]:.0%} of "
        f"the time): {hog.namespace}/{hog.pod} uses {hog.cores:.1f} cores there{limit}; "
        f"the pods of {', '.join(services)} on {node} are starved.",
        f"A noisy neighbour on node {node}: {hog.namespace}/{hog.pod} takes most of the "
        f"node's CPU, so every pod scheduled on {node} waits for CPU and answers slowly."
        f"{healthy} The services themselves are not the cause: restarting or rolling them "
        "back changes nothing (a restarted pod may land on the same node).",
        confidence,
        obs.cite("metric:node_cpu_pressure", "metric:node_top_cpu", "pods"),
        action(
            obs,
            ctx,
            ActionKind.CORDON_NODE,
            node,
            f"keep new pods off {node} while {hog.namespace}/{hog.pod} saturates its CPUs",
            confidence,
        ),
        [
            f"Move the starved pods off {node}: drain it (kubectl drain {node} "
            "--ignore-daemonsets) or delete those pods so they reschedule on a calm node; "
            "no action kind drains a node.",
            f"Give {hog.namespace}/{hog.pod}'s workload a CPU limit (or move it to its own "
            f"nodes), then uncordon {node}.",
        ],
    )
