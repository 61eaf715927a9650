"""A simulated kubelet per node: admits bound pods, runs their containers, reports status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.kube.clock import format_time
from sandbox.kube.container_lifecycle import ContainerLifecycle
from sandbox.kube.container_runtime import ContainerRuntime
from sandbox.kube.objects import clone, get_condition, is_terminating, set_condition
from sandbox.kube.podlogs import ContainerRun

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
CONDITION_ORDER = (
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
)


@dataclass
class PodRuntime:
    uid: str
    node: str
    pod_ip: str
    host_ip: str
    started_at: datetime
    containers: dict[str, ContainerRuntime] = field(default_factory=dict)
    kill_at: datetime | None = None


def node_ip(node: JsonDict) -> str:
    addresses = (node.get("status") or {}).get("addresses") or []
    return next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "10.0.0.1")


def pod_status(pod: JsonDict, runtime: PodRuntime, now: datetime) -> JsonDict:
    """The status a kubelet posts for a pod it runs."""
    meta = pod["metadata"]
    statuses = [
        runtime.containers[spec["name"]].status(meta["name"], meta["namespace"], meta["uid"], now)
        for spec in pod["spec"].get("containers") or []
    ]
    unready = [s["name"] for s in statuses if not s["ready"]]
    status = clone(pod.get("status") or {})
    set_condition(status, "PodReadyToStartContainers", "True", now, probe_time=True)
    set_condition(status, "Initialized", "True", runtime.started_at, probe_time=True)
    message = f"containers with unready status: [{' '.join(unready)}]" if unready else None
    reason = "ContainersNotReady" if unready else None
    value = "False" if unready else "True"
    for kind in ("Ready", "ContainersReady"):
        set_condition(status, kind, value, now, reason, message, probe_time=True)
    if get_condition(status, "PodScheduled") is None:
        set_condition(status, "PodScheduled", "True", runtime.started_at, probe_time=True)
    order = {kind: index for index, kind in enumerate(CONDITION_ORDER)}
    status["conditions"] = sorted(status["conditions"], key=lambda c: order.get(c["type"], 99))
    status["phase"] = "Running" if any(c.runs for c in runtime.containers.values()) else "Pending"
    status["hostIP"], status["hostIPs"] = runtime.host_ip, [{"ip": runtime.host_ip}]
    status["podIP"], status["podIPs"] = runtime.pod_ip, [{"ip": runtime.pod_ip}]
    status["startTime"] = format_time(runtime.started_at)
    status["containerStatuses"] = statuses
    return status


class Kubelet:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.pods: dict[str, PodRuntime] = {}
        self.lifecycle = ContainerLifecycle(cluster)
        self._ip_next: dict[str, int] = {}

    @property
    def runs(self) -> dict[str, ContainerRun]:
        """Container runs by container id, for serving logs."""
        return self.lifecycle.runs

    def node_alive(self, name: str) -> bool:
        store, faults = self.cluster.store, self.cluster.faults
        return store.get("nodes", None, name) is not None and faults.for_node(name) is None

    def _allocate_ip(self, node: JsonDict) -> str:
        cidr = node["spec"].get("podCIDR") or "10.244.0.0/24"
        prefix = ".".join(cidr.split("/")[0].split(".")[:3])
        name = node["metadata"]["name"]
        self._ip_next[name] = self._ip_next.get(name, 1) + 1
        return f"{prefix}.{(self._ip_next[name] % 250) + 2}"

    def reconcile(self) -> None:
        seen: set[str] = set()
        for pod in list(self.cluster.store.items("pods")):
            node_name = pod["spec"].get("nodeName")
            if not node_name:
                continue
            seen.add(pod["metadata"]["uid"])
            node = self.cluster.store.get("nodes", None, node_name)
            if node is not None and self.cluster.faults.for_node(node_name) is None:
                self._sync(pod, node)
        for uid in [uid for uid in self.pods if uid not in seen]:
            for container in self.pods.pop(uid).containers.values():
                for run in container.runs:
                    self.lifecycle.runs.pop(run.container_id, None)

    def _sync(self, pod: JsonDict, node: JsonDict) -> None:
        now = self.cluster.now()
        meta = pod["metadata"]
        runtime = self.pods.get(meta["uid"])
        if runtime is None:
            if is_terminating(pod):
                self.cluster.store.remove("pods", meta["namespace"], meta["name"])
                return
            runtime = self._admit(pod, node, now)
        if is_terminating(pod):
            if runtime.kill_at is None:
                grace = float(meta.get("deletionGracePeriodSeconds") or 0)
                runtime.kill_at = now + timedelta(
                    seconds=min(grace, self.cluster.timings.termination)
                )
                for name, container in runtime.containers.items():
                    if container.running():
                        self.lifecycle.event(pod, "Killing", f"Stopping container {name}", name)
            if now >= runtime.kill_at:
                self.cluster.store.remove("pods", meta["namespace"], meta["name"])
                return
        else:
            for spec in pod["spec"].get("containers") or []:
                self.lifecycle.advance(pod, runtime.containers[spec["name"]], spec, now)
        status = pod_status(pod, runtime, now)
        if status != pod.get("status"):
            updated = clone(pod)
            updated["status"] = status
            self.cluster.write("pods", updated)

    def _admit(self, pod: JsonDict, node: JsonDict, now: datetime) -> PodRuntime:
        name = node["metadata"]["name"]
        runtime = PodRuntime(
            pod["metadata"]["uid"], name, self._allocate_ip(node), node_ip(node), now
        )
        self.pods[runtime.uid] = runtime
        for spec in pod["spec"].get("containers") or []:
            container = ContainerRuntime(spec["name"], str(spec.get("image", "")), "pulling", None)
            runtime.containers[spec["name"]] = container
            self.lifecycle.pull(pod, container, spec, now)
        return runtime
