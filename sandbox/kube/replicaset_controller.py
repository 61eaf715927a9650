"""Keeps each ReplicaSet's pod count at spec.replicas and reports its status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.kube.events import REPLICASET_CONTROLLER
from sandbox.kube.objects import (
    clone,
    is_controlled_by,
    is_pod_available,
    is_pod_ready,
    is_terminating,
    owner_reference,
)

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def active_pods(pods: list[JsonDict]) -> list[JsonDict]:
    return [
        p
        for p in pods
        if not is_terminating(p)
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def deletion_rank(pod: JsonDict) -> tuple[int, int, int, int, str]:
    """Pods deleted first on scale-down: unscheduled, pending, not ready, most restarts, newest."""
    status = pod.get("status") or {}
    restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
    return (
        1 if pod["spec"].get("nodeName") else 0,
        _PHASE_RANK.get(status.get("phase", "Pending"), 0),
        1 if is_pod_ready(pod) else 0,
        -restarts,
        "".join(chr(255 - ord(ch)) for ch in pod["metadata"].get("creationTimestamp", "")),
    )


class ReplicaSetController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def reconcile(self) -> None:
        store = self.cluster.store
        for rs in list(store.items("replicasets")):
            current = store.get("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])
            if current is None or is_terminating(current):
                continue
            pods = [
                p
                for p in store.items("pods", current["metadata"]["namespace"])
                if is_controlled_by(p, current)
            ]
            self._manage(current, active_pods(pods))
            self._update_status(current)

    def _manage(self, rs: JsonDict, active: list[JsonDict]) -> None:
        desired = int(rs["spec"].get("replicas", 1))
        if len(active) < desired:
            for _ in range(desired - len(active)):
                self._create_pod(rs)
        elif len(active) > desired:
            victims = sorted(active, key=deletion_rank)[: len(active) - desired]
            for pod in victims:
                self.cluster.delete_pod(pod)
                self.cluster.events.record(
                    rs,
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    REPLICASET_CONTROLLER,
                )

    def _create_pod(self, rs: JsonDict) -> None:
        template = rs["spec"].get("template") or {}
        template_meta = template.get("metadata") or {}
        name = f"{rs['metadata']['name']}-{self.cluster.ids.suffix()}"
        metadata: JsonDict = {
            "name": name,
            "generateName": f"{rs['metadata']['name']}-",
            "namespace": rs["metadata"]["namespace"],
            "labels": clone(template_meta.get("labels") or {}),
        }
        if template_meta.get("annotations"):
            metadata["annotations"] = clone(template_meta["annotations"])
        metadata["ownerReferences"] = [owner_reference(rs)]
        pod = {"metadata": metadata, "spec": clone(template.get("spec") or {})}
        self.cluster.create_object("pods", pod)
        self.cluster.events.record(
            rs, "SuccessfulCreate", f"Created pod: {name}", REPLICASET_CONTROLLER
        )

    def _update_status(self, rs: JsonDict) -> None:
        store = self.cluster.store
        namespace = rs["metadata"]["namespace"]
        pods = active_pods([p for p in store.items("pods", namespace) if is_controlled_by(p, rs)])
        min_ready = int(rs["spec"].get("minReadySeconds") or 0)
        now = self.cluster.now()
        status: JsonDict = {"replicas": len(pods)}
        counts = {
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": sum(1 for p in pods if is_pod_ready(p)),
            "availableReplicas": sum(1 for p in pods if is_pod_available(p, min_ready, now)),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        status.update({key: value for key, value in counts.items() if value})
        if (rs.get("status") or {}) != status:
            updated = clone(rs)
            updated["status"] = status
            store.put("replicasets", updated)
