"""Server-side printing: `Accept: application/json;as=Table;g=meta.k8s.io;v=v1` as kubectl asks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox.kube.clock import human_duration, parse_time
from sandbox.kube.config_objects import CONFIG_PRINTERS
from sandbox.kube.label_selectors import selector_string
from sandbox.kube.objects import clone, condition_true
from sandbox.kube.resources import ResourceType
from sandbox.kube.table_columns import AGE, NAME, column
from sandbox.kube.table_columns import age as _age
from sandbox.kube.tables_storage import STORAGE_PRINTERS

JsonDict = dict[str, Any]
Row = list[Any]


def _containers(template: JsonDict) -> tuple[str, str]:
    containers = (template.get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(
        c.get("image", "") for c in containers
    )


def _pod_row(pod: JsonDict, now: datetime) -> Row:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    reason = status.get("reason") or status.get("phase") or "Pending"
    restarts, ready, running, last_restart = 0, 0, False, None
    for container in reversed(statuses):
        restarts += int(container.get("restartCount", 0))
        finished = ((container.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if finished and (last_restart is None or parse_time(finished) > last_restart):
            last_restart = parse_time(finished)
        state = container.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
        elif state.get("terminated"):
            reason = f"ExitCode:{state['terminated'].get('exitCode', 0)}"
        elif container.get("ready") and state.get("running"):
            running = True
            ready += 1
    if reason == "Completed" and running:
        reason = "Running" if condition_true(status, "Ready") else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    restart_text = str(restarts)
    if last_restart is not None:
        restart_text = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    total = len(pod["spec"].get("containers") or [])
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restart_text,
        _age(pod, now),
        status.get("podIP") or "<none>",
        pod["spec"].get("nodeName") or "<none>",
        "<none>",
        "<none>",
    ]


def _deployment_row(obj: JsonDict, now: datetime) -> Row:
    status, spec = obj.get("status") or {}, obj["spec"]
    names, images = _containers(spec.get("template") or {})
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(obj, now),
        names,
        images,
        selector_string(spec.get("selector")),
    ]


def _replicaset_row(obj: JsonDict, now: datetime) -> Row:
    status, spec = obj.get("status") or {}, obj["spec"]
    names, images = _containers(spec.get("template") or {})
    return [
        obj["metadata"]["name"],
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _age(obj, now),
        names,
        images,
        selector_string(spec.get("selector")),
    ]


def _node_row(obj: JsonDict, now: datetime) -> Row:
    status = obj.get("status") or {}
    text = "Ready" if condition_true(status, "Ready") else "NotReady"
    if obj["spec"].get("unschedulable"):
        text += ",SchedulingDisabled"
    labels = obj["metadata"].get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    return [
        obj["metadata"]["name"],
        text,
        ",".join(roles) or "<none>",
        _age(obj, now),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP", "<none>"),
        addresses.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def _namespace_row(obj: JsonDict, now: datetime) -> Row:
    return [
        obj["metadata"]["name"],
        (obj.get("status") or {}).get("phase", "Active"),
        _age(obj, now),
    ]


def _event_row(obj: JsonDict, now: datetime) -> Row:
    def since(stamp: str | None) -> str:
        return human_duration((now - parse_time(stamp)).total_seconds()) if stamp else "<unknown>"

    involved = obj.get("involvedObject") or {}
    source = obj.get("source") or {}
    source_text = ", ".join(x for x in (source.get("component"), source.get("host")) if x)
    return [
        since(obj.get("lastTimestamp") or obj.get("eventTime")),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        involved.get("fieldPath", ""),
        source_text,
        obj.get("message", ""),
        since(obj.get("firstTimestamp")),
        obj.get("count", 1),
        obj["metadata"]["name"],
    ]


def _lease_row(obj: JsonDict, now: datetime) -> Row:
    return [
        obj["metadata"]["name"],
        (obj.get("spec") or {}).get("holderIdentity", ""),
        _age(obj, now),
    ]


PRINTERS: dict[str, tuple[list[JsonDict], Callable[[JsonDict, datetime], Row]]] = {
    "pods": (
        [
            NAME,
            column("Ready"),
            column("Status"),
            column("Restarts"),
            AGE,
            column("IP", priority=1),
            column("Node", priority=1),
            column("Nominated Node", priority=1),
            column("Readiness Gates", priority=1),
        ],
        _pod_row,
    ),
    "deployments": (
        [
            NAME,
            column("Ready"),
            column("Up-to-date", "integer"),
            column("Available", "integer"),
            AGE,
            column("Containers", priority=1),
            column("Images", priority=1),
            column("Selector", priority=1),
        ],
        _deployment_row,
    ),
    "replicasets": (
        [
            NAME,
            column("Desired", "integer"),
            column("Current", "integer"),
            column("Ready", "integer"),
            AGE,
            column("Containers", priority=1),
            column("Images", priority=1),
            column("Selector", priority=1),
        ],
        _replicaset_row,
    ),
    "nodes": (
        [
            NAME,
            column("Status"),
            column("Roles"),
            AGE,
            column("Version"),
            column("Internal-IP", priority=1),
            column("External-IP", priority=1),
            column("OS-Image", priority=1),
            column("Kernel-Version", priority=1),
            column("Container-Runtime", priority=1),
        ],
        _node_row,
    ),
    "namespaces": ([NAME, column("Status"), AGE], _namespace_row),
    "events": (
        [
            column("Last Seen"),
            column("Type"),
            column("Reason"),
            column("Object"),
            column("Subobject", priority=1),
            column("Source", priority=1),
            column("Message"),
            column("First Seen", priority=1),
            column("Count", priority=1),
            column("Name", priority=1, fmt="name"),
        ],
        _event_row,
    ),
    "leases": ([NAME, column("Holder"), AGE], _lease_row),
    **STORAGE_PRINTERS,
    **CONFIG_PRINTERS,
}


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def _row_object(obj: JsonDict, include: str) -> JsonDict | None:
    if include == "None":
        return None
    if include == "Object":
        return clone(obj)
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": clone(obj["metadata"]),
    }


def to_table(
    resource: ResourceType,
    objects: list[JsonDict],
    now: datetime,
    *,
    resource_version: str,
    include_object: str = "Metadata",
    continue_token: str | None = None,
    with_columns: bool = True,
) -> JsonDict:
    columns, printer = PRINTERS[resource.plural]
    rows = []
    for obj in objects:
        row: JsonDict = {"cells": printer(obj, now)}
        embedded = _row_object(
            {"kind": resource.kind, "apiVersion": resource.api_version, **obj}, include_object
        )
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    metadata: JsonDict = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns if with_columns else [],
        "rows": rows,
    }
