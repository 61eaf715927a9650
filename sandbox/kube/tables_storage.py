"""Table printers of volume claims, volumes, storage classes and jobs (kubectl get columns)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox.kube.clock import human_duration, parse_time
from sandbox.kube.label_selectors import selector_string
from sandbox.kube.objects import condition_true
from sandbox.kube.table_columns import AGE, NAME, age, column

JsonDict = dict[str, Any]
Row = list[Any]
ACCESS_MODE_SHORT = {
    "ReadWriteOnce": "RWO",
    "ReadOnlyMany": "ROX",
    "ReadWriteMany": "RWX",
    "ReadWriteOncePod": "RWOP",
}
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _modes(modes: list[str] | None) -> str:
    return ",".join(ACCESS_MODE_SHORT.get(mode, mode) for mode in modes or [])


def _phase(obj: JsonDict) -> str:
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    return str((obj.get("status") or {}).get("phase", ""))


def _claim_row(obj: JsonDict, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    bound = status.get("phase") == "Bound"
    return [
        obj["metadata"]["name"],
        _phase(obj),
        spec.get("volumeName", ""),
        (status.get("capacity") or {}).get("storage", "") if bound else "",
        _modes(status.get("accessModes")) if bound else "",
        spec.get("storageClassName", ""),
        spec.get("volumeAttributesClassName") or "<unset>",
        age(obj, now),
        spec.get("volumeMode", ""),
    ]


def _volume_row(obj: JsonDict, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace')}/{ref.get('name')}" if ref else ""
    return [
        obj["metadata"]["name"],
        (spec.get("capacity") or {}).get("storage", ""),
        _modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", ""),
        _phase(obj),
        claim,
        spec.get("storageClassName", ""),
        spec.get("volumeAttributesClassName") or "<unset>",
        status.get("reason", ""),
        age(obj, now),
        spec.get("volumeMode", ""),
    ]


def _storage_class_row(obj: JsonDict, now: datetime) -> Row:
    annotations = obj["metadata"].get("annotations") or {}
    name = obj["metadata"]["name"]
    if any(annotations.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS):
        name += " (default)"
    return [
        name,
        obj.get("provisioner", ""),
        obj.get("reclaimPolicy", "Delete"),
        obj.get("volumeBindingMode", "Immediate"),
        bool(obj.get("allowVolumeExpansion", False)),
        age(obj, now),
    ]


def job_status(obj: JsonDict) -> str:
    """The STATUS column of `kubectl get jobs` (1.33)."""
    status = obj.get("status") or {}
    if condition_true(status, "Complete"):
        return "Complete"
    if condition_true(status, "Failed"):
        return "Failed"
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if condition_true(status, kind):
            return kind
    return "Running"


def _job_row(obj: JsonDict, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = int(status.get("succeeded", 0))
    completions = spec.get("completions")
    if completions is not None:
        done = f"{succeeded}/{completions}"
    else:
        done = f"{succeeded}/1 of {spec.get('parallelism', 1)}"
    duration = ""
    if status.get("startTime"):
        end = parse_time(status["completionTime"]) if status.get("completionTime") else now
        duration = human_duration((end - parse_time(status["startTime"])).total_seconds())
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    return [
        obj["metadata"]["name"],
        job_status(obj),
        done,
        duration,
        age(obj, now),
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
        selector_string(spec.get("selector")),
    ]


STORAGE_PRINTERS: dict[str, tuple[list[JsonDict], Callable[[JsonDict, datetime], Row]]] = {
    "persistentvolumeclaims": (
        [
            NAME,
            column("Status"),
            column("Volume"),
            column("Capacity"),
            column("Access Modes"),
            column("StorageClass"),
            column("VolumeAttributesClass"),
            AGE,
            column("VolumeMode", priority=1),
        ],
        _claim_row,
    ),
    "persistentvolumes": (
        [
            NAME,
            column("Capacity"),
            column("Access Modes"),
            column("Reclaim Policy"),
            column("Status"),
            column("Claim"),
            column("StorageClass"),
            column("VolumeAttributesClass"),
            column("Reason"),
            AGE,
            column("VolumeMode", priority=1),
        ],
        _volume_row,
    ),
    "storageclasses": (
        [
            NAME,
            column("Provisioner"),
            column("ReclaimPolicy"),
            column("VolumeBindingMode"),
            column("AllowVolumeExpansion", "boolean"),
            AGE,
        ],
        _storage_class_row,
    ),
    "jobs": (
        [
            NAME,
            column("Status"),
            column("Completions"),
            column("Duration"),
            AGE,
            column("Containers", priority=1),
            column("Images", priority=1),
            column("Selector", priority=1),
        ],
        _job_row,
    ),
}
