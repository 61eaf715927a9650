"""core/v1 Events recorded like client-go's recorder: repeats bump `count` and `lastTimestamp`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.kube.clock import SandboxClock, format_micro_time, format_time
from sandbox.kube.identity import IdGenerator
from sandbox.kube.objects import clone
from sandbox.kube.resources import resource_for_kind
from sandbox.kube.store import ObjectStore

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Source:
    component: str
    host: str | None = None


KUBELET = "kubelet"
SCHEDULER = Source("default-scheduler")
DEPLOYMENT_CONTROLLER = Source("deployment-controller")
REPLICASET_CONTROLLER = Source("replicaset-controller")
NODE_CONTROLLER = Source("node-controller")
TAINT_CONTROLLER = Source("taint-eviction-controller")


def kubelet(node: str) -> Source:
    return Source(KUBELET, node)


def object_reference(obj: JsonDict, field_path: str | None = None) -> JsonDict:
    meta = obj["metadata"]
    kind = obj.get("kind") or ""
    resource = resource_for_kind(kind)
    reference: JsonDict = {"kind": kind}
    if meta.get("namespace"):
        reference["namespace"] = meta["namespace"]
    reference["name"] = meta["name"]
    # The kubelet names a Node by its name in place of a uid.
    reference["uid"] = meta["name"] if kind == "Node" else meta.get("uid", "")
    reference["apiVersion"] = obj.get("apiVersion") or (resource.api_version if resource else "v1")
    if kind != "Node" and meta.get("resourceVersion"):
        reference["resourceVersion"] = meta["resourceVersion"]
    if field_path:
        reference["fieldPath"] = field_path
    return reference


class EventRecorder:
    def __init__(self, store: ObjectStore, clock: SandboxClock, ids: IdGenerator) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._recent: dict[tuple[str, ...], tuple[str, str]] = {}
        self._sequence = 0

    def record(
        self,
        obj: JsonDict,
        reason: str,
        message: str,
        source: Source,
        *,
        warning: bool = False,
        field_path: str | None = None,
    ) -> None:
        reference = object_reference(obj, field_path)
        namespace = obj["metadata"].get("namespace") or "default"
        now = self._clock.now()
        event_type = "Warning" if warning else "Normal"
        key = (
            reference["uid"],
            field_path or "",
            reason,
            message,
            source.component,
            source.host or "",
            event_type,
        )
        existing_key = self._recent.get(key)
        existing = self._store.get("events", *existing_key) if existing_key else None
        if existing is not None:
            updated = clone(existing)
            updated["count"] = int(updated.get("count") or 1) + 1
            updated["lastTimestamp"] = format_time(now)
            self._store.put("events", updated)
            return
        self._sequence += 1
        stamp = int(now.timestamp() * 1_000_000_000) + self._sequence
        name = f"{reference['name']}.{stamp:x}"
        event: JsonDict = {
            "kind": "Event",
            "apiVersion": "v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": self._ids.uid(),
                "creationTimestamp": format_time(now),
            },
            "involvedObject": reference,
            "reason": reason,
            "message": message,
            "source": {
                "component": source.component,
                **({"host": source.host} if source.host else {}),
            },
            "firstTimestamp": format_time(now),
            "lastTimestamp": format_time(now),
            "count": 1,
            "type": event_type,
            "eventTime": None,
            "reportingComponent": source.component,
            "reportingInstance": source.host or "",
        }
        self._store.put("events", event)
        self._recent[key] = (namespace, name)

    def micro_now(self) -> str:
        return format_micro_time(self._clock.now())
