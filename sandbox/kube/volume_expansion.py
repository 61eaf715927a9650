"""Volume expansion after a claim's request grows: the external resizer, then the kubelet.

As in Kubernetes 1.33: the resizer records `status.allocatedResources` and a `Resizing`
condition, grows the PersistentVolume after `Timings.volume_resize`, and leaves the claim
`FileSystemResizePending`; the kubelet of a running pod that mounts the claim grows the
filesystem one more `volume_resize` later and only then is `status.capacity` the new size.
A claim no running pod mounts stays FileSystemResizePending.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sandbox.kube.clock import parse_time
from sandbox.kube.events import Source, kubelet
from sandbox.kube.objects import clone, get_condition, is_terminating, set_condition
from sandbox.kube.quantity import QuantityError, parse_quantity
from sandbox.kube.validation_storage import storage_request
from sandbox.kube.volume_binding import pods_using

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
RESIZER = Source("external-resizer")
NODE_RESIZE_MESSAGE = (
    "Waiting for user to (re-)start a pod to finish file system resize of volume on node."
)


def _size(text: Any) -> Any:
    try:
        return parse_quantity(str(text)) if text is not None else None
    except QuantityError:
        return None


def _since(status: JsonDict, kind: str, now: datetime) -> float:
    condition = get_condition(status, kind) or {}
    stamp = condition.get("lastTransitionTime")
    return (now - parse_time(stamp)).total_seconds() if stamp else 0.0


class VolumeExpander:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def reconcile(self) -> None:
        for claim in list(self.cluster.store.items("persistentvolumeclaims")):
            status = claim.get("status") or {}
            if status.get("phase") != "Bound" or is_terminating(claim):
                continue
            requested = storage_request(claim)
            capacity = (status.get("capacity") or {}).get("storage")
            wanted, have = _size(requested), _size(capacity)
            if wanted is None or have is None or wanted <= have:
                continue
            allocated = (status.get("allocatedResources") or {}).get("storage")
            if _size(allocated) != wanted:
                self._start(claim, str(requested))
            elif get_condition(status, "Resizing") is not None:
                self._resize_volume(claim)
            elif get_condition(status, "FileSystemResizePending") is not None:
                self._resize_filesystem(claim)

    def _start(self, claim: JsonDict, requested: str) -> None:
        updated = clone(claim)
        status = updated["status"]
        status["allocatedResources"] = {"storage": requested}
        status["allocatedResourceStatuses"] = {"storage": "ControllerResizeInProgress"}
        status["conditions"] = [
            c for c in status.get("conditions") or [] if c.get("type") != "FileSystemResizePending"
        ]
        set_condition(status, "Resizing", "True", self.cluster.now(), probe_time=True)
        self.cluster.write("persistentvolumeclaims", updated)
        volume = claim["spec"].get("volumeName", "")
        message = f"External resizer is resizing volume {volume}"
        self.cluster.events.record(claim, "Resizing", message, RESIZER)

    def _resize_volume(self, claim: JsonDict) -> None:
        now = self.cluster.now()
        if _since(claim["status"], "Resizing", now) < self.cluster.timings.volume_resize:
            return
        size = str(claim["status"]["allocatedResources"]["storage"])
        volume = self.cluster.store.get("persistentvolumes", None, claim["spec"]["volumeName"])
        if volume is not None:
            grown = clone(volume)
            grown["spec"]["capacity"]["storage"] = size
            self.cluster.write("persistentvolumes", grown)
        updated = clone(claim)
        status = updated["status"]
        status["conditions"] = [c for c in status["conditions"] if c.get("type") != "Resizing"]
        set_condition(
            status,
            "FileSystemResizePending",
            "True",
            now,
            message=NODE_RESIZE_MESSAGE,
            probe_time=True,
        )
        status["allocatedResourceStatuses"] = {"storage": "NodeResizePending"}
        self.cluster.write("persistentvolumeclaims", updated)
        message = "Require file system resize of volume on node"
        self.cluster.events.record(claim, "FileSystemResizeRequired", message, RESIZER)

    def _resize_filesystem(self, claim: JsonDict) -> None:
        now = self.cluster.now()
        status = claim["status"]
        if _since(status, "FileSystemResizePending", now) < self.cluster.timings.volume_resize:
            return
        meta = claim["metadata"]
        running = [
            pod
            for pod in pods_using(self.cluster, meta["namespace"], meta["name"])
            if (pod.get("status") or {}).get("phase") == "Running" and pod["spec"].get("nodeName")
        ]
        if not running:
            return
        updated = clone(claim)
        fresh = updated["status"]
        fresh["capacity"] = {"storage": str(fresh["allocatedResources"]["storage"])}
        fresh.pop("allocatedResourceStatuses", None)
        fresh["conditions"] = [
            c for c in fresh.get("conditions") or [] if c.get("type") != "FileSystemResizePending"
        ]
        if not fresh["conditions"]:
            fresh.pop("conditions")
        self.cluster.write("persistentvolumeclaims", updated)
        pod = running[0]
        message = (
            f'MountVolume.NodeExpandVolume succeeded for volume "{claim["spec"]["volumeName"]}" '
            f"{pod['spec']['nodeName']}"
        )
        self.cluster.events.record(
            pod, "FileSystemResizeSuccessful", message, kubelet(pod["spec"]["nodeName"])
        )
