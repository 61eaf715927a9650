"""Put a scenario into the sandbox cluster and let its incident unfold up to "now".

The cluster is seeded as it was two days ago, jumps (quietly, nothing pending) to the
incident start, gets its rollouts (through the Kubernetes API, as `kubectl set image`
would), its HPAs' reaction to the load (sandbox.scenarios.autoscaling) and faults, then runs
forward to now while a frame is recorded every sample step.
Afterwards the cluster's clock equals the wall clock, so object ages, events and
back-offs line up with the generated metrics and logs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from sandbox.kube import Cluster, Fault, KubeSandbox, apply_seed
from sandbox.scenarios.autoscaling import apply_autoscale
from sandbox.scenarios.catalog import Scenario
from sandbox.scenarios.frames import (
    ClusterFrame,
    ClusterHistory,
    autoscaler_frame,
    claim_frame,
    deployment_frame,
    node_frame,
    pod_frame,
)
from sandbox.scenarios.timeline import Timeline

CREATED_AGO = 2 * 86400  # the shop's deployments were last rolled out this long before now
FAST_STEP = 10.0  # controller resolution while fast-forwarding, in sandbox seconds


def play_cluster(kube: KubeSandbox, scenario: Scenario, timeline: Timeline) -> ClusterHistory:
    """Reset `kube` to the scenario and run it to `timeline.now`; returns what it saw.

    Nothing else may advance the cluster's clock meanwhile (stop any driver first).
    """
    cluster = kube.reset(None, random_seed=scenario.random_seed)
    history = ClusterHistory()
    with cluster.lock:
        cluster.clock.set(_utc(timeline.now - CREATED_AGO))
        apply_seed(cluster, scenario.seed)
        if cluster.now().timestamp() > timeline.incident:
            raise RuntimeError("seeding the cluster ran past the incident start")
    apply_writes(kube, cluster, scenario, timeline)
    with cluster.lock:
        cluster.clock.set(_utc(timeline.incident))
        history.add(snapshot(cluster, at=timeline.start))
    apps: Any = client.AppsV1Api(kube.api_client())
    for rollout in scenario.rollouts:
        changed: dict[str, dict[str, Any]] = {}
        for name, image in rollout.images.items():
            changed.setdefault(name, {"name": name})["image"] = image
        for name, resources in rollout.resources.items():
            changed.setdefault(name, {"name": name})["resources"] = resources
        containers = list(changed.values())
        apps.patch_namespaced_deployment(
            rollout.deployment,
            rollout.namespace,
            {"spec": {"template": {"spec": {"containers": containers}}}},
        )
    apply_autoscale(kube, cluster, scenario.autoscale)
    for fault in scenario.faults:
        cluster.add_fault(Fault.from_dict(dict(fault)))
    history.add(snapshot(cluster))
    if not (scenario.rollouts or scenario.faults or scenario.autoscale):
        with cluster.lock:  # nothing happens in the cluster: jump straight to now
            cluster.clock.set(_utc(timeline.now))
        history.add(snapshot(cluster))
        return history
    while (remaining := timeline.now - cluster.now().timestamp()) > 0:
        cluster.advance(min(timeline.step, remaining), step=FAST_STEP)
        history.add(snapshot(cluster))
    return history


def apply_writes(
    kube: KubeSandbox, cluster: Cluster, scenario: Scenario, timeline: Timeline
) -> None:
    """Each ConfigMap/Secret write at its time before the incident, oldest first, through the
    API (a merge patch with the write's field manager), so the server records it."""
    core: Any = client.CoreV1Api(kube.api_client())
    for write in sorted(scenario.writes, key=lambda w: -w.before):
        at = timeline.incident - write.before
        with cluster.lock:
            if cluster.now().timestamp() > at:
                raise RuntimeError(f"write of {write.kind} {write.name} is before the seeding")
            cluster.clock.set(_utc(at))
        body: dict[str, Any] = {"data": write.data}
        if write.kind == "Secret":
            body = {"stringData": write.stringData, **({"data": write.data} if write.data else {})}
            core.patch_namespaced_secret(
                write.name, write.namespace, body, field_manager=write.manager
            )
        else:
            core.patch_namespaced_config_map(
                write.name, write.namespace, body, field_manager=write.manager
            )


def snapshot(cluster: Cluster, at: float | None = None) -> ClusterFrame:
    with cluster.lock:
        pods = tuple(
            pod_frame(pod, cluster.owning_deployment(pod)) for pod in cluster.store.items("pods")
        )
        nodes = tuple(node_frame(node) for node in cluster.store.items("nodes"))
        deployments = tuple(deployment_frame(d) for d in cluster.store.items("deployments"))
        claims = tuple(claim_frame(c) for c in cluster.store.items("persistentvolumeclaims"))
        autoscalers = tuple(
            autoscaler_frame(h) for h in cluster.store.items("horizontalpodautoscalers")
        )
        when = cluster.now().timestamp() if at is None else at
    return ClusterFrame(
        at=when,
        pods=pods,
        nodes=nodes,
        deployments=deployments,
        claims=claims,
        autoscalers=autoscalers,
    )


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
