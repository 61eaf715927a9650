"""What proves each kind of action worked, read live from the cluster.

- rollback, restart, scale, pause/resume, delete_pod: the deployment's rollout is complete
  and every wanted replica is available on the current template (`WorkloadSignal`);
- set_resources: every replica on the new values, none OOMKilled (`ResourcesSignal`);
- cordon: the node is unschedulable and no pod it held is left unready or unscheduled;
- expand_volume: the claim's capacity has grown to the size asked for (its usage is the
  alert's business: the disk alert's expression is read next to it).

Each reads like the alert's expression: None when proven, a number (how far) otherwise.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from bot.remediation.validation import Reading
from policies.quantities import parse_bytes

NOT_YET = 1.0
"""How a signal reads while the change has not taken effect yet."""


class NodeSignal:
    """A cordoned node: unschedulable, and the pods it held are ready elsewhere."""

    def __init__(self, api: client.ApiClient, node: str) -> None:
        self.core: Any = client.CoreV1Api(api)
        self.node = node
        self.description = f"node {node} cordoned and its pods rescheduled"

    def read(self) -> Reading:
        try:
            node = self.core.read_node(self.node)
            held = self.core.list_pod_for_all_namespaces(
                field_selector=f"spec.nodeName={self.node}"
            ).items
            pending = self.core.list_pod_for_all_namespaces(
                field_selector="status.phase=Pending"
            ).items
        except (ApiException, HTTPError) as exc:
            return Reading(None, f"Kubernetes error: {exc}", error=True)
        cordoned = bool(node.spec.unschedulable)
        stranded = [p for p in held if _replicated(p) and not _ready(p)]
        unscheduled = [p for p in pending if not p.spec.node_name]
        value = (0.0 if cordoned else NOT_YET) + len(stranded) + len(unscheduled)
        note = (
            f"{'cordoned' if cordoned else 'still schedulable'}, "
            f"{len(stranded)} unready pod(s) left on it, {len(unscheduled)} unscheduled"
        )
        return Reading(None if value == 0 else value, note)


class VolumeSignal:
    """An expanded claim: its reported capacity reached the size asked for."""

    def __init__(self, api: client.ApiClient, namespace: str, claim: str, size: str) -> None:
        self.core: Any = client.CoreV1Api(api)
        self.namespace = namespace
        self.claim = claim
        self.size = size
        self.description = f"capacity of volume claim {namespace}/{claim} at {size}"

    def read(self) -> Reading:
        try:
            found = self.core.read_namespaced_persistent_volume_claim(self.claim, self.namespace)
        except (ApiException, HTTPError) as exc:
            return Reading(None, f"Kubernetes error: {exc}", error=True)
        capacity = ((found.status and found.status.capacity) or {}).get("storage")
        if capacity and parse_bytes(capacity) >= parse_bytes(self.size):
            return Reading(None, f"capacity {capacity}")
        return Reading(NOT_YET, f"capacity {capacity or 'unknown'}, asked {self.size}")


def _replicated(pod: Any) -> bool:
    """Owned by a ReplicaSet or StatefulSet (a DaemonSet's pod stays with its node)."""
    owners = pod.metadata.owner_references or []
    return any(o.kind in ("ReplicaSet", "StatefulSet") for o in owners)


def _ready(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None:
        return True  # on its way out: its replacement is what counts
    conditions = (pod.status and pod.status.conditions) or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)
