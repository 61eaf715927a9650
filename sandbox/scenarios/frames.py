"""Snapshots of the sandbox cluster taken while a scenario's incident unfolds.

The metric and log generators read them so that every pod name, IP, node, restart and
waiting reason they write is one the Kubernetes API shows too.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class ContainerFrame:
    name: str
    image: str
    ready: bool
    running: bool
    restarts: int
    container_id: str
    started_at: float | None  # when the running container started
    waiting_reason: str | None
    last_terminated_reason: str | None
    limits: dict[str, str]
    requests: dict[str, str]


@dataclass(frozen=True)
class PodFrame:
    namespace: str
    name: str
    uid: str
    workload: str  # the owning Deployment, else the pod name
    replicaset: str
    node: str
    pod_ip: str
    host_ip: str
    phase: str
    terminating: bool
    created: float
    containers: tuple[ContainerFrame, ...]

    @property
    def serving(self) -> bool:
        """In the Service's endpoints: running, every container ready, not terminating."""
        return (
            self.phase == "Running"
            and not self.terminating
            and all(c.ready for c in self.containers)
        )


@dataclass(frozen=True)
class NodeFrame:
    name: str
    ip: str
    ready: str  # True / False / Unknown
    unschedulable: bool
    taints: tuple[tuple[str, str], ...]  # (key, effect)
    cpu: float = 4.0  # status.capacity.cpu, in cores


@dataclass(frozen=True)
class DeploymentFrame:
    namespace: str
    name: str
    generation: int
    observed_generation: int
    replicas: int
    updated: int
    available: int
    ready: int
    status_replicas: int
    progressing: str  # status of the Progressing condition
    images: dict[str, str]


@dataclass(frozen=True)
class ClaimFrame:
    namespace: str
    name: str
    capacity: str | None  # status.capacity.storage: what the volume holds now


@dataclass(frozen=True)
class AutoscalerFrame:
    """A HorizontalPodAutoscaler as kube-state-metrics reads it."""

    namespace: str
    name: str
    target_kind: str
    target_name: str
    target_api_version: str
    min_replicas: int
    max_replicas: int
    current_replicas: int
    desired_replicas: int
    cpu_target: int | None  # averageUtilization of the cpu Resource metric, percent
    conditions: tuple[tuple[str, str], ...]  # (type, status)


@dataclass(frozen=True)
class ClusterFrame:
    at: float
    pods: tuple[PodFrame, ...]
    nodes: tuple[NodeFrame, ...]
    deployments: tuple[DeploymentFrame, ...]
    claims: tuple[ClaimFrame, ...] = ()
    autoscalers: tuple[AutoscalerFrame, ...] = ()

    def claim(self, namespace: str, name: str) -> ClaimFrame | None:
        return next((c for c in self.claims if (c.namespace, c.name) == (namespace, name)), None)

    def node(self, name: str) -> NodeFrame | None:
        return self._nodes.get(name)

    def pod(self, namespace: str, name: str) -> PodFrame | None:
        return self._pods.get((namespace, name))

    @cached_property
    def _pods(self) -> dict[tuple[str, str], PodFrame]:
        return {(pod.namespace, pod.name): pod for pod in self.pods}

    @cached_property
    def _nodes(self) -> dict[str, NodeFrame]:
        return {node.name: node for node in self.nodes}


@dataclass
class ClusterHistory:
    """Frames in time order; the first one stands for everything before the incident."""

    frames: list[ClusterFrame] = field(default_factory=list)
    _times: list[float] = field(default_factory=list, init=False, repr=False)

    def add(self, frame: ClusterFrame) -> None:
        if self._times and frame.at < self._times[-1]:
            raise ValueError("frames must be added in time order")
        self.frames.append(frame)
        self._times.append(frame.at)

    def at(self, when: float) -> ClusterFrame:
        """The latest frame at or before `when` (the first one for earlier times)."""
        index = bisect.bisect_right(self._times, when) - 1
        return self.frames[max(index, 0)]

    @property
    def last(self) -> ClusterFrame:
        return self.frames[-1]

    def all_pods(self) -> Iterator[PodFrame]:
        """Each pod once, as last seen."""
        seen: dict[tuple[str, str], PodFrame] = {}
        for frame in self.frames:
            for pod in frame.pods:
                seen[(pod.namespace, pod.name)] = pod
        yield from seen.values()


def _ts(text: str | None) -> float:
    if not text:
        return 0.0
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _condition(obj: JsonDict, kind: str) -> str:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return str(condition.get("status", "Unknown"))
    return "Unknown"


def pod_frame(pod: JsonDict, workload: str | None) -> PodFrame:
    meta, spec, status = pod["metadata"], pod["spec"], pod.get("status") or {}
    statuses = {s["name"]: s for s in status.get("containerStatuses") or []}
    containers = []
    for container in spec.get("containers") or []:
        found = statuses.get(container["name"], {})
        state, last = found.get("state") or {}, (found.get("lastState") or {}).get("terminated")
        resources = container.get("resources") or {}
        containers.append(
            ContainerFrame(
                name=container["name"],
                image=str(container.get("image", "")),
                ready=bool(found.get("ready")),
                running="running" in state,
                restarts=int(found.get("restartCount", 0)),
                container_id=str(found.get("containerID") or ""),
                started_at=_ts((state.get("running") or {}).get("startedAt")) or None,
                waiting_reason=(state.get("waiting") or {}).get("reason"),
                last_terminated_reason=(last or {}).get("reason"),
                limits={k: str(v) for k, v in (resources.get("limits") or {}).items()},
                requests={k: str(v) for k, v in (resources.get("requests") or {}).items()},
            )
        )
    owners = [ref["name"] for ref in meta.get("ownerReferences") or []]
    return PodFrame(
        namespace=meta["namespace"],
        name=meta["name"],
        uid=meta.get("uid", ""),
        workload=workload or meta["name"],
        replicaset=owners[0] if owners else "",
        node=str(spec.get("nodeName") or ""),
        pod_ip=str(status.get("podIP") or ""),
        host_ip=str(status.get("hostIP") or ""),
        phase=str(status.get("phase", "Pending")),
        terminating=bool(meta.get("deletionTimestamp")),
        created=_ts(meta.get("creationTimestamp")),
        containers=tuple(containers),
    )


def node_frame(node: JsonDict) -> NodeFrame:
    addresses = (node.get("status") or {}).get("addresses") or []
    ip = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "")
    taints = tuple(
        (str(t.get("key")), str(t.get("effect"))) for t in node["spec"].get("taints") or []
    )
    return NodeFrame(
        name=node["metadata"]["name"],
        ip=ip,
        ready=_condition(node, "Ready"),
        unschedulable=bool(node["spec"].get("unschedulable")),
        taints=taints,
        cpu=_cores(((node.get("status") or {}).get("capacity") or {}).get("cpu")),
    )


def _cores(amount: Any) -> float:
    text = str(amount or "4")
    return float(text[:-1]) / 1000.0 if text.endswith("m") else float(text)


def claim_frame(claim: JsonDict) -> ClaimFrame:
    capacity = ((claim.get("status") or {}).get("capacity") or {}).get("storage")
    meta = claim["metadata"]
    return ClaimFrame(meta["namespace"], meta["name"], str(capacity) if capacity else None)


def autoscaler_frame(hpa: JsonDict) -> AutoscalerFrame:
    meta, spec, status = hpa["metadata"], hpa.get("spec") or {}, hpa.get("status") or {}
    target = spec.get("scaleTargetRef") or {}
    cpu = next(
        (
            ((m.get("resource") or {}).get("target") or {}).get("averageUtilization")
            for m in spec.get("metrics") or []
            if (m.get("resource") or {}).get("name") == "cpu"
        ),
        None,
    )
    return AutoscalerFrame(
        namespace=meta["namespace"],
        name=meta["name"],
        target_kind=str(target.get("kind", "")),
        target_name=str(target.get("name", "")),
        target_api_version=str(target.get("apiVersion", "")),
        min_replicas=int(spec.get("minReplicas", 1)),
        max_replicas=int(spec.get("maxReplicas", 1)),
        current_replicas=int(status.get("currentReplicas", 0)),
        desired_replicas=int(status.get("desiredReplicas", 0)),
        cpu_target=int(cpu) if cpu is not None else None,
        conditions=tuple(
            (str(c.get("type")), str(c.get("status"))) for c in status.get("conditions") or []
        ),
    )


def deployment_frame(deployment: JsonDict) -> DeploymentFrame:
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
    containers = spec["template"]["spec"].get("containers") or []
    return DeploymentFrame(
        namespace=meta["namespace"],
        name=meta["name"],
        generation=int(meta.get("generation", 1)),
        observed_generation=int(status.get("observedGeneration", 0)),
        replicas=int(spec.get("replicas", 1)),
        updated=int(status.get("updatedReplicas", 0)),
        available=int(status.get("availableReplicas", 0)),
        ready=int(status.get("readyReplicas", 0)),
        status_replicas=int(status.get("replicas", 0)),
        progressing=_condition(deployment, "Progressing"),
        images={c["name"]: str(c.get("image", "")) for c in containers},
    )


@dataclass(frozen=True)
class Scrape:
    """One container of one pod as a Prometheus scrape at `at` sees it."""

    at: int
    pod: PodFrame
    container: ContainerFrame
    up: bool  # the container runs on a Ready node, so its endpoint answers
    fresh: bool  # the first scrape of this container instance: counters start over
    started: float  # when this container instance was first seen running


def scrapes(history: ClusterHistory, pod: PodFrame, container: str, grid: range) -> list[Scrape]:
    """Every sample time at which the pod exists, with its container's state then."""
    found: list[Scrape] = []
    current_id, started = "", 0.0
    for at in grid:
        frame = history.at(at)
        seen = frame.pod(pod.namespace, pod.name)
        if seen is None:
            continue
        box = next((c for c in seen.containers if c.name == container), None)
        if box is None:
            continue
        node = frame.node(seen.node)
        up = box.running and node is not None and node.ready == "True"
        fresh = bool(box.running and box.container_id and box.container_id != current_id)
        if fresh:
            current_id = box.container_id
            started = box.started_at or (seen.created if not found else float(at))
        found.append(Scrape(at, seen, box, up, fresh, started))
    return found
