"""Validation of volume claims, volumes, storage classes and jobs, in the real server's words.

Create rules follow `ValidatePersistentVolumeClaim`, `ValidatePersistentVolume`,
`ValidateStorageClass` and `ValidateJob`; update rules the matching `...Update` functions of
Kubernetes 1.33 (RecoverVolumeExpansionFailure on: a claim may shrink back towards its
status.capacity, never to it or below).
"""

from __future__ import annotations

from typing import Any

from sandbox.kube.errors import Cause
from sandbox.kube.identity import prune_empty
from sandbox.kube.objects import clone
from sandbox.kube.quantity import QuantityError, parse_quantity
from sandbox.kube.validation import (
    invalid_value,
    required,
    show,
    validate_labels,
    validate_pod_spec,
)

JsonDict = dict[str, Any]
ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
VOLUME_SOURCES = (
    "awsElasticBlockStore",
    "azureDisk",
    "azureFile",
    "cephfs",
    "cinder",
    "csi",
    "fc",
    "flexVolume",
    "flocker",
    "gcePersistentDisk",
    "glusterfs",
    "hostPath",
    "iscsi",
    "local",
    "nfs",
    "photonPersistentDisk",
    "portworxVolume",
    "quobyte",
    "rbd",
    "scaleIO",
    "storageos",
    "vsphereVolume",
)
IMMUTABLE_CLAIM = (
    "spec is immutable after creation except resources.requests and "
    "volumeAttributesClassName for bound claims"
)
JOB_RESTART_POLICIES = '"OnFailure", "Never"'


def storage_request(obj: JsonDict) -> str | None:
    requests = ((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}
    value = requests.get("storage")
    return None if value is None else str(value)


def _unsupported(path: str, value: Any, supported: tuple[str, ...]) -> Cause:
    listed = ", ".join(f'"{item}"' for item in supported)
    message = f"Unsupported value: {show(value)}: supported values: {listed}"
    return Cause(path, "FieldValueNotSupported", message)


def _forbidden(path: str, detail: str) -> Cause:
    return Cause(path, "FieldValueForbidden", f"Forbidden: {detail}")


def _access_modes(path: str, modes: Any) -> list[Cause]:
    if not modes:
        return [required(path, "at least 1 access mode is required")]
    return [_unsupported(path, mode, ACCESS_MODES) for mode in modes if mode not in ACCESS_MODES]


def _positive_storage(path: str, value: Any) -> list[Cause]:
    if value is None:
        return [required(path)]
    try:
        if parse_quantity(value) <= 0:
            return [invalid_value(path, str(value), "must be greater than zero")]
    except QuantityError as exc:
        return [invalid_value(path, str(value), str(exc))]
    return []


def validate_claim(obj: JsonDict) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes = _access_modes("spec.accessModes", spec.get("accessModes"))
    causes += _positive_storage("spec.resources[storage]", storage_request(obj))
    return causes


def validate_volume(obj: JsonDict) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes = _access_modes("spec.accessModes", spec.get("accessModes"))
    capacity = (spec.get("capacity") or {}).get("storage")
    if not spec.get("capacity"):
        causes.append(required("spec.capacity"))
    else:
        causes += _positive_storage("spec.capacity[storage]", capacity)
    sources = [name for name in VOLUME_SOURCES if spec.get(name)]
    if not sources:
        causes.append(required("spec", "must specify a volume type"))
    elif len(sources) > 1:
        causes.append(_forbidden(f"spec.{sources[1]}", "may not specify more than 1 volume type"))
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy not in RECLAIM_POLICIES:
        causes.append(_unsupported("spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES))
    return causes


def validate_storage_class(obj: JsonDict) -> list[Cause]:
    causes: list[Cause] = []
    if not obj.get("provisioner"):
        causes.append(required("provisioner"))
    if obj.get("reclaimPolicy") not in ("Delete", "Retain"):
        policy = obj.get("reclaimPolicy")
        causes.append(_unsupported("reclaimPolicy", policy, ("Delete", "Retain")))
    if obj.get("volumeBindingMode") not in BINDING_MODES:
        mode = obj.get("volumeBindingMode")
        causes.append(_unsupported("volumeBindingMode", mode, BINDING_MODES))
    return causes


def validate_job(obj: JsonDict) -> list[Cause]:
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    for key in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"):
        value = spec.get(key)
        if isinstance(value, int) and value < 0:
            causes.append(invalid_value(f"spec.{key}", value, "must be greater than or equal to 0"))
    template = spec.get("template")
    if not template:
        return [*causes, required("spec.template")]
    labels = (template.get("metadata") or {}).get("labels") or {}
    causes += validate_labels("spec.template.metadata.labels", labels)
    pod_spec = template.get("spec")
    causes += validate_pod_spec("spec.template.spec", pod_spec, template=False)
    policy = (pod_spec or {}).get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        message = f"Unsupported value: {show(policy)}: supported values: {JOB_RESTART_POLICIES}"
        causes.append(Cause("spec.template.spec.restartPolicy", "FieldValueNotSupported", message))
    return causes


def validate_storage_object(plural: str, obj: JsonDict) -> list[Cause]:
    """Create-time rules of the kinds this module covers (empty for every other kind)."""
    rules = {
        "persistentvolumeclaims": validate_claim,
        "persistentvolumes": validate_volume,
        "storageclasses": validate_storage_class,
        "jobs": validate_job,
    }
    rule = rules.get(plural)
    return rule(obj) if rule else []


def _size(value: str | None) -> Any:
    try:
        return parse_quantity(value) if value is not None else None
    except QuantityError:
        return None


def validate_claim_update(old: JsonDict, new: JsonDict) -> list[Cause]:
    old_spec, new_spec = clone(old.get("spec") or {}), clone(new.get("spec") or {})
    if not old_spec.get("volumeName"):
        old_spec["volumeName"] = new_spec.get("volumeName")
    bound = (new.get("status") or {}).get("phase") == "Bound"
    if bound and (new_spec.get("resources") or {}).get("requests") is not None:
        new_spec["resources"]["requests"]["storage"] = storage_request(old)
    for spec in (old_spec, new_spec):
        spec.pop("volumeAttributesClassName", None)
    if prune_empty(old_spec) != prune_empty(new_spec):
        return [_forbidden("spec", IMMUTABLE_CLAIM)]
    old_size, new_size = _size(storage_request(old)), _size(storage_request(new))
    if old_size is None or new_size is None or new_size >= old_size:
        return []
    capacity = _size(((old.get("status") or {}).get("capacity") or {}).get("storage"))
    if capacity is None or new_size <= capacity:
        path = "spec.resources.requests.storage"
        return [_forbidden(path, "field can not be less than status.capacity")]
    return []


def validate_volume_update(old: JsonDict, new: JsonDict) -> list[Cause]:
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    causes: list[Cause] = []
    for name in VOLUME_SOURCES:
        if old_spec.get(name) != new_spec.get(name):
            detail = "spec.persistentvolumesource is immutable after creation"
            causes.append(_forbidden("spec.persistentvolumesource", detail))
            break
    if old_spec.get("volumeMode") != new_spec.get("volumeMode"):
        mode = new_spec.get("volumeMode")
        causes.append(invalid_value("spec.volumeMode", mode, "field is immutable"))
    return causes


def validate_storage_class_update(old: JsonDict, new: JsonDict) -> list[Cause]:
    causes: list[Cause] = []
    for field in ("parameters", "provisioner", "reclaimPolicy"):
        if prune_empty(old.get(field)) != prune_empty(new.get(field)):
            causes.append(_forbidden(field, f"updates to {field} are forbidden."))
    if old.get("volumeBindingMode") != new.get("volumeBindingMode"):
        causes.append(
            invalid_value("volumeBindingMode", new.get("volumeBindingMode"), "field is immutable")
        )
    return causes


def validate_job_update(old: JsonDict, new: JsonDict) -> list[Cause]:
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    causes: list[Cause] = []
    for field in ("selector", "template", "completionMode"):
        if prune_empty(old_spec.get(field)) != prune_empty(new_spec.get(field)):
            causes.append(invalid_value(f"spec.{field}", new_spec.get(field), "field is immutable"))
    if old_spec.get("completions") != new_spec.get("completions"):
        causes.append(
            invalid_value("spec.completions", new_spec.get("completions"), "field is immutable")
        )
    return causes


def validate_storage_update(plural: str, old: JsonDict, new: JsonDict) -> list[Cause]:
    rules = {
        "persistentvolumeclaims": validate_claim_update,
        "persistentvolumes": validate_volume_update,
        "storageclasses": validate_storage_class_update,
        "jobs": validate_job_update,
    }
    rule = rules.get(plural)
    return rule(old, new) if rule else []
