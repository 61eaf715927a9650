"""`metadata.managedFields`: who last wrote an object, how, and when, as the real API server
records it on every create, update and patch (server-side field management, Kubernetes
1.18+).

One entry per (manager, operation, subresource). A write that changes the object stamps its
writer's entry with the write time and the set of fields it sent (`fieldsV1`, the same
`f:`-prefixed tree the real server writes); a write that changes nothing stamps nothing.
The manager is the `fieldManager` query parameter; without one the real server takes the
client's User-Agent prefix, which this stand-in does not see, so it records `unknown`.
The operation is `Update` (`Apply` would be a server-side apply patch, which this stand-in
refuses with 415 as a server without it would). This is
what "when was this ConfigMap last changed" reads on a real cluster: the newest entry's
`time` (`creationTimestamp` only says when it was first created).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.kube.clock import format_time

JsonDict = dict[str, Any]
APPLY_PATCH = "application/apply-patch+yaml"
DEFAULT_MANAGER = "unknown"
_UNOWNED_METADATA = frozenset(
    {
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "generation",
        "managedFields",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    }
)


def operation_of(patch_type: str | None) -> str:
    """`Apply` for a server-side apply patch, `Update` for creates, updates and other
    patches."""
    return "Apply" if patch_type == APPLY_PATCH else "Update"


def field_set(value: Any) -> JsonDict:
    """The `fieldsV1` tree of an object's fields: `{"f:data": {"f:KEY": {}}}`; list items are
    owned as a whole (`.`), as the real server does for atomic lists."""
    if not isinstance(value, dict):
        return {}
    return {
        f"f:{key}": field_set(item) if isinstance(item, dict) else {} for key, item in value.items()
    }


def owned_fields(obj: JsonDict, subresource: str | None) -> JsonDict:
    """What a write of `obj` owns: its status alone through the status subresource, else
    everything but the system metadata and the status."""
    if subresource == "status":
        return {"f:status": field_set(obj.get("status") or {})}
    body = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion", "status")}
    meta = {k: v for k, v in (body.get("metadata") or {}).items() if k not in _UNOWNED_METADATA}
    meta.pop("name", None)
    meta.pop("namespace", None)
    body["metadata"] = meta
    return {key: item for key, item in field_set(body).items() if item or key != "f:metadata"}


def record_write(
    obj: JsonDict,
    now: datetime,
    *,
    manager: str | None,
    operation: str,
    subresource: str | None = None,
    previous: list[JsonDict] | None = None,
) -> None:
    """Stamp `obj`'s managedFields with this write: the writer's entry (kept from `previous`,
    the stored object's entries) gets `now` and the fields it wrote; the others stay."""
    name = manager or DEFAULT_MANAGER
    entries = [dict(e) for e in previous or [] if isinstance(e, dict)]
    entry: JsonDict = {
        "manager": name,
        "operation": operation,
        "apiVersion": obj.get("apiVersion", "v1"),
        "time": format_time(now),
        "fieldsType": "FieldsV1",
        "fieldsV1": owned_fields(obj, subresource),
    }
    if subresource:
        entry["subresource"] = subresource
    key = (name, operation, subresource)
    kept = [
        e for e in entries if (e.get("manager"), e.get("operation"), e.get("subresource")) != key
    ]
    obj.setdefault("metadata", {})["managedFields"] = [*kept, entry]
