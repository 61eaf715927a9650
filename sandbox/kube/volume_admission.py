"""The admission plugins that shape storage writes: DefaultStorageClass,
StorageObjectInUseProtection and PersistentVolumeClaimResize.
"""

from __future__ import annotations

from typing import Any

from sandbox.kube.errors import ApiError, forbidden
from sandbox.kube.quantity import QuantityError, parse_quantity
from sandbox.kube.store import ObjectStore
from sandbox.kube.validation_storage import storage_request

JsonDict = dict[str, Any]
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
RESIZE_REFUSED = (
    "only dynamically provisioned pvc can be resized and the storageclass that provisions "
    "the pvc must support resize"
)


def is_default_class(storage_class: JsonDict) -> bool:
    annotations = storage_class["metadata"].get("annotations") or {}
    return any(annotations.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)


def default_class_name(store: ObjectStore) -> str | None:
    """The newest class marked default, as the plugin picks when several are."""
    defaults = [sc for sc in store.items("storageclasses") if is_default_class(sc)]
    defaults.sort(key=lambda sc: (sc["metadata"]["creationTimestamp"], sc["metadata"]["name"]))
    return str(defaults[-1]["metadata"]["name"]) if defaults else None


def claim_class(claim: JsonDict) -> str:
    annotations = claim["metadata"].get("annotations") or {}
    legacy = annotations.get("volume.beta.kubernetes.io/storage-class")
    if legacy is not None:
        return str(legacy)
    return str((claim.get("spec") or {}).get("storageClassName") or "")


def admit_create(store: ObjectStore, plural: str, body: JsonDict) -> None:
    """Mutate a new object as the admission chain would before it is stored."""
    if plural == "persistentvolumeclaims":
        spec = body.setdefault("spec", {})
        annotations = body["metadata"].get("annotations") or {}
        if "storageClassName" not in spec and not annotations.get(
            "volume.beta.kubernetes.io/storage-class"
        ):
            name = default_class_name(store)
            if name is not None:
                spec["storageClassName"] = name
        _add_finalizer(body, PVC_PROTECTION)
    elif plural == "persistentvolumes":
        _add_finalizer(body, PV_PROTECTION)


def _add_finalizer(body: JsonDict, finalizer: str) -> None:
    finalizers = body["metadata"].setdefault("finalizers", [])
    if finalizer not in finalizers:
        finalizers.append(finalizer)


def _quantity(text: str | None) -> Any:
    try:
        return parse_quantity(text) if text is not None else None
    except QuantityError:
        return None


def admit_update(store: ObjectStore, plural: str, old: JsonDict, new: JsonDict) -> None:
    """PersistentVolumeClaimResize: growing a claim needs a bound claim whose class expands."""
    if plural != "persistentvolumeclaims":
        return
    old_size, new_size = _quantity(storage_request(old)), _quantity(storage_request(new))
    if old_size is None or new_size is None or new_size <= old_size:
        return
    name = str(old["metadata"]["name"])
    if (old.get("status") or {}).get("phase") != "Bound":
        raise _refused(name, "Only bound persistent volume claims can be expanded")
    class_name, old_class = claim_class(new), claim_class(old)
    storage_class = store.get("storageclasses", None, class_name) if class_name else None
    if (
        not class_name
        or class_name != old_class
        or storage_class is None
        or storage_class.get("allowVolumeExpansion") is not True
    ):
        raise _refused(name, RESIZE_REFUSED)


def _refused(name: str, reason: str) -> ApiError:
    message = f'persistentvolumeclaims "{name}" is forbidden: {reason}'
    return forbidden(message, name, "", "persistentvolumeclaims")
