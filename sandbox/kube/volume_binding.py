"""The persistent volume controller, a CSI provisioner and the in-use protection controller.

Pending claims bind to a matching Available volume, or get one provisioned from their
StorageClass (`pvc-<claim uid>`, WaitForFirstConsumer waits for a pod that mounts the
claim). Volumes follow their claim: Bound, then Released (Retain) or deleted (Delete).
`kubernetes.io/pvc-protection` keeps a deleted claim while a running pod mounts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.kube.clock import format_time
from sandbox.kube.events import Source
from sandbox.kube.objects import clone, is_terminating
from sandbox.kube.quantity import QuantityError, parse_quantity
from sandbox.kube.validation_storage import storage_request
from sandbox.kube.volume_admission import PV_PROTECTION, PVC_PROTECTION, claim_class

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
PV_CONTROLLER = Source("persistentvolume-controller")
NO_PROVISIONER = "kubernetes.io/no-provisioner"
FINISHED_PHASES = ("Succeeded", "Failed")


def mounted_claims(pod: JsonDict) -> list[str]:
    """Names of the claims a pod mounts through `spec.volumes[].persistentVolumeClaim`."""
    names = []
    for volume in pod["spec"].get("volumes") or []:
        source = volume.get("persistentVolumeClaim") if isinstance(volume, dict) else None
        if isinstance(source, dict) and source.get("claimName"):
            names.append(str(source["claimName"]))
    return names


def pods_using(cluster: Cluster, namespace: str, claim: str) -> list[JsonDict]:
    """Pods that still use the claim: not finished (terminating ones still count)."""
    return [
        pod
        for pod in cluster.store.items("pods", namespace)
        if claim in mounted_claims(pod)
        and (pod.get("status") or {}).get("phase") not in FINISHED_PHASES
    ]


def _size(text: Any) -> Any:
    try:
        return parse_quantity(str(text))
    except QuantityError:
        return None


class VolumeBinder:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def reconcile(self) -> None:
        store = self.cluster.store
        for claim in list(store.items("persistentvolumeclaims")):
            if is_terminating(claim):
                self._release_claim(claim)
            elif (claim.get("status") or {}).get("phase") != "Bound":
                self._bind(claim)
        for volume in list(store.items("persistentvolumes")):
            self._sync_volume(volume)

    # -- claims ----------------------------------------------------------------------------
    def _bind(self, claim: JsonDict) -> None:
        volume = self._matching_volume(claim)
        if volume is not None:
            self._bind_pair(claim, volume, provisioner=None)
            return
        class_name = claim_class(claim)
        storage_class = (
            self.cluster.store.get("storageclasses", None, class_name) if class_name else None
        )
        if storage_class is None or storage_class.get("provisioner") == NO_PROVISIONER:
            return
        namespace, name = claim["metadata"]["namespace"], claim["metadata"]["name"]
        waits = storage_class.get("volumeBindingMode") == "WaitForFirstConsumer"
        if waits and not pods_using(self.cluster, namespace, name):
            return
        provisioned = self._provision(claim, storage_class)
        self._bind_pair(claim, provisioned, provisioner=str(storage_class["provisioner"]))

    def _matching_volume(self, claim: JsonDict) -> JsonDict | None:
        spec = claim.get("spec") or {}
        wanted = _size(storage_request(claim))
        candidates = []
        for volume in self.cluster.store.items("persistentvolumes"):
            vspec, ref = volume.get("spec") or {}, (volume.get("spec") or {}).get("claimRef")
            if spec.get("volumeName") and volume["metadata"]["name"] != spec["volumeName"]:
                continue
            if ref and ref.get("uid") not in (None, claim["metadata"]["uid"]):
                continue
            if (volume.get("status") or {}).get("phase") not in ("Available", None):
                continue
            capacity = _size((vspec.get("capacity") or {}).get("storage"))
            if is_terminating(volume) or capacity is None or wanted is None or capacity < wanted:
                continue
            if (vspec.get("storageClassName") or "") != claim_class(claim):
                continue
            if not set(spec.get("accessModes") or []) <= set(vspec.get("accessModes") or []):
                continue
            candidates.append((capacity, volume["metadata"]["name"], volume))
        return min(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None

    def _provision(self, claim: JsonDict, storage_class: JsonDict) -> JsonDict:
        meta, spec = claim["metadata"], claim.get("spec") or {}
        provisioner = str(storage_class["provisioner"])
        volume: JsonDict = {
            "metadata": {
                "name": f"pvc-{meta['uid']}",
                "annotations": {"pv.kubernetes.io/provisioned-by": provisioner},
                "finalizers": [
                    PV_PROTECTION,
                    "external-provisioner.volume.kubernetes.io/finalizer",
                ],
            },
            "spec": {
                "accessModes": list(spec.get("accessModes") or []),
                "capacity": {"storage": storage_request(claim)},
                "csi": {
                    "driver": provisioner,
                    "fsType": "ext4",
                    "volumeHandle": "vol-" + meta["uid"].replace("-", "")[:17],
                },
                "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
                "storageClassName": storage_class["metadata"]["name"],
                "volumeMode": spec.get("volumeMode", "Filesystem"),
            },
        }
        created = self.cluster.create_object("persistentvolumes", volume)
        source = Source(f"{provisioner}_csi-provisioner")
        message = f"Successfully provisioned volume {created['metadata']['name']}"
        self.cluster.events.record(claim, "ProvisioningSucceeded", message, source)
        return created

    def _bind_pair(self, claim: JsonDict, volume: JsonDict, *, provisioner: str | None) -> None:
        now = format_time(self.cluster.now())
        bound_volume = clone(volume)
        bound_volume["spec"]["claimRef"] = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "name": claim["metadata"]["name"],
            "namespace": claim["metadata"]["namespace"],
            "uid": claim["metadata"]["uid"],
            "resourceVersion": claim["metadata"]["resourceVersion"],
        }
        bound_volume = self.cluster.write("persistentvolumes", bound_volume)
        bound_volume = clone(bound_volume)
        bound_volume["status"] = {"phase": "Bound", "lastPhaseTransitionTime": now}
        self.cluster.write("persistentvolumes", bound_volume)
        bound = clone(claim)
        annotations = bound["metadata"].setdefault("annotations", {})
        annotations["pv.kubernetes.io/bind-completed"] = "yes"
        if not (claim.get("spec") or {}).get("volumeName"):
            annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
        if provisioner is not None:
            annotations["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
            annotations["volume.kubernetes.io/storage-provisioner"] = provisioner
        bound["spec"]["volumeName"] = volume["metadata"]["name"]
        bound["status"] = {
            "phase": "Bound",
            "accessModes": list(volume["spec"].get("accessModes") or []),
            "capacity": {"storage": str(volume["spec"]["capacity"]["storage"])},
        }
        self.cluster.write("persistentvolumeclaims", bound)

    def _release_claim(self, claim: JsonDict) -> None:
        meta = claim["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if PVC_PROTECTION in finalizers and not pods_using(
            self.cluster, meta["namespace"], meta["name"]
        ):
            finalizers.remove(PVC_PROTECTION)
            updated = clone(claim)
            updated["metadata"]["finalizers"] = finalizers
            claim = self.cluster.write("persistentvolumeclaims", updated)
        if not claim["metadata"].get("finalizers"):
            self.cluster.store.remove("persistentvolumeclaims", meta["namespace"], meta["name"])

    # -- volumes ---------------------------------------------------------------------------
    def _sync_volume(self, volume: JsonDict) -> None:
        spec, status = volume.get("spec") or {}, volume.get("status") or {}
        ref = spec.get("claimRef")
        phase = status.get("phase")
        wanted = "Available"
        if ref is not None:
            claim = self.cluster.store.get(
                "persistentvolumeclaims", ref.get("namespace"), ref.get("name", "")
            )
            if claim is not None and claim["metadata"]["uid"] == ref.get("uid"):
                wanted = "Bound"
            elif phase in ("Bound", "Released"):
                wanted = "Released"
        if wanted == "Released" and spec.get("persistentVolumeReclaimPolicy") == "Delete":
            self._delete_volume(volume)
            return
        if is_terminating(volume) and wanted != "Bound":
            self._finish_volume(volume)
            return
        if phase != wanted:
            updated = clone(volume)
            updated["status"] = {
                "phase": wanted,
                "lastPhaseTransitionTime": format_time(self.cluster.now()),
            }
            self.cluster.write("persistentvolumes", updated)

    def _delete_volume(self, volume: JsonDict) -> None:
        """The provisioner deletes the backing disk, then the object goes."""
        self.cluster.store.remove("persistentvolumes", None, volume["metadata"]["name"])

    def _finish_volume(self, volume: JsonDict) -> None:
        """A deleted volume no claim holds: protection and provisioner finalizers let go."""
        self.cluster.store.remove("persistentvolumes", None, volume["metadata"]["name"])
