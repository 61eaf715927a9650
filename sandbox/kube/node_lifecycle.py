"""Node health from faults: conditions, NoSchedule/NoExecute taints, leases, pod eviction."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sandbox.kube.clock import format_micro_time, format_time, parse_time
from sandbox.kube.events import NODE_CONTROLLER, TAINT_CONTROLLER, kubelet
from sandbox.kube.faults import Fault
from sandbox.kube.objects import clone, condition_true, is_terminating, set_condition

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
HEALTHY_CONDITIONS = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)
NETWORK_NOT_READY = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)


def node_conditions(existing: JsonDict, fault: Fault | None, now_status: Any) -> JsonDict:
    """The node status with conditions for healthy / Unknown / False as the fault says."""
    status = clone(existing)
    now = now_status
    if fault is not None and fault.node_status == "Unknown":
        for kind, _, _ in HEALTHY_CONDITIONS:
            set_condition(
                status,
                kind,
                "Unknown",
                now,
                "NodeStatusUnknown",
                "Kubelet stopped posting node status.",
                heartbeat=True,
            )
        set_condition(
            status,
            "Ready",
            "Unknown",
            now,
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
            heartbeat=True,
        )
        return status
    for kind, reason, message in HEALTHY_CONDITIONS:
        set_condition(status, kind, "False", now, reason, message, heartbeat=True)
    if fault is not None:
        set_condition(
            status,
            "Ready",
            "False",
            now,
            "KubeletNotReady",
            fault.message or NETWORK_NOT_READY,
            heartbeat=True,
        )
    else:
        set_condition(
            status,
            "Ready",
            "True",
            now,
            "KubeletReady",
            "kubelet is posting ready status",
            heartbeat=True,
        )
    return status


class NodeLifecycle:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def reconcile(self) -> None:
        for node in list(self.cluster.store.items("nodes")):
            self._sync_node(node)

    def _sync_node(self, node: JsonDict) -> None:
        now = self.cluster.now()
        name = node["metadata"]["name"]
        fault = self.cluster.faults.for_node(name)
        status = node_conditions(node.get("status") or {}, fault, now)
        if fault is None:  # the kubelet posts heartbeats again
            for condition in status.get("conditions") or []:
                if condition.get("lastHeartbeatTime") and node.get("status", {}) != status:
                    condition["lastHeartbeatTime"] = format_time(now)
        taint_key = (
            None
            if fault is None
            else (UNREACHABLE if fault.node_status == "Unknown" else NOT_READY)
        )
        taints = [
            t
            for t in node["spec"].get("taints") or []
            if t.get("key") not in (UNREACHABLE, NOT_READY)
        ]
        previous = {
            t["key"]: t
            for t in node["spec"].get("taints") or []
            if t.get("key") in (UNREACHABLE, NOT_READY)
        }
        if taint_key:
            taints.append({"key": taint_key, "effect": "NoSchedule"})
            added = (previous.get(taint_key) or {}).get("timeAdded") or format_time(now)
            taints.append({"key": taint_key, "effect": "NoExecute", "timeAdded": added})
        was_ready = condition_true(node.get("status"), "Ready")
        updated = clone(node)
        updated["status"] = status
        if taints:
            updated["spec"]["taints"] = taints
        else:
            updated["spec"].pop("taints", None)
        if updated != node:
            self.cluster.write("nodes", updated)
            if was_ready and fault is not None:
                self.cluster.events.record(
                    updated,
                    "NodeNotReady",
                    f"Node {name} status is now: NodeNotReady",
                    NODE_CONTROLLER,
                )
            elif not was_ready and fault is None:
                self.cluster.events.record(
                    updated, "NodeReady", f"Node {name} status is now: NodeReady", kubelet(name)
                )
        self._renew_lease(updated, fault is None)
        if fault is not None:
            self._pods_on_unhealthy_node(updated, taint_key or UNREACHABLE)

    def _renew_lease(self, node: JsonDict, healthy: bool) -> None:
        name = node["metadata"]["name"]
        store = self.cluster.store
        if store.get("namespaces", None, "kube-node-lease") is None:
            return
        lease = store.get("leases", "kube-node-lease", name)
        now = self.cluster.now()
        if lease is None:
            owner = {
                "apiVersion": "v1",
                "kind": "Node",
                "name": name,
                "uid": node["metadata"]["uid"],
            }
            body = {
                "metadata": {
                    "name": name,
                    "namespace": "kube-node-lease",
                    "ownerReferences": [owner],
                },
                "spec": {
                    "holderIdentity": name,
                    "leaseDurationSeconds": 40,
                    "renewTime": format_micro_time(now),
                },
            }
            self.cluster.create_object("leases", body)
            return
        if not healthy:
            return
        renewed = parse_time(lease["spec"].get("renewTime") or format_micro_time(now))
        if (now - renewed).total_seconds() >= self.cluster.timings.lease_renew:
            updated = clone(lease)
            updated["spec"]["renewTime"] = format_micro_time(now)
            self.cluster.write("leases", updated)

    def _pods_on_unhealthy_node(self, node: JsonDict, taint_key: str) -> None:
        name = node["metadata"]["name"]
        now = self.cluster.now()
        taint = next(
            t
            for t in node["spec"]["taints"]
            if t["key"] == taint_key and t["effect"] == "NoExecute"
        )
        tainted_at = parse_time(taint["timeAdded"])
        for listed in list(self.cluster.store.items("pods")):
            if listed["spec"].get("nodeName") != name:
                continue
            pod = listed
            if condition_true(pod.get("status"), "Ready"):
                updated = clone(pod)
                set_condition(updated["status"], "Ready", "False", now, probe_time=True)
                pod = self.cluster.write("pods", updated)
                self.cluster.events.record(
                    pod, "NodeNotReady", "Node is not ready", NODE_CONTROLLER, warning=True
                )
            if is_terminating(pod):
                continue
            seconds = self._toleration_seconds(pod, taint_key)
            if seconds is not None and now >= tainted_at + timedelta(seconds=seconds):
                meta = pod["metadata"]
                self.cluster.events.record(
                    pod,
                    "TaintManagerEviction",
                    f"Marking for deletion Pod {meta['namespace']}/{meta['name']}",
                    TAINT_CONTROLLER,
                )
                self.cluster.delete_pod(pod)

    @staticmethod
    def _toleration_seconds(pod: JsonDict, key: str) -> float | None:
        """Seconds a pod tolerates the NoExecute taint; None means forever, 0 means not at all."""
        for toleration in pod["spec"].get("tolerations") or []:
            if toleration.get("effect") not in (None, "", "NoExecute"):
                continue
            if (
                toleration.get("key") in (key, None, "") and toleration.get("operator") == "Exists"
            ) or toleration.get("key") == key:
                seconds = toleration.get("tolerationSeconds")
                return None if seconds is None else float(seconds)
        return 0.0
