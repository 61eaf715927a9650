"""Subresources with their own shapes: scale (autoscaling/v1 Scale), eviction and pod logs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.kube.errors import ApiError, created_status, invalid, stale_conflict
from sandbox.kube.label_selectors import selector_string
from sandbox.kube.objects import clone
from sandbox.kube.patching import apply_patch
from sandbox.kube.podlogs import (
    LogQuery,
    choose_container_id,
    pick_container,
    render_log,
    unreachable_kubelet,
)
from sandbox.kube.request_options import Outcome, decode_object
from sandbox.kube.resources import PODS, ResourceType
from sandbox.kube.validation import invalid_value

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster
    from sandbox.kube.operations import ObjectVerbs

JsonDict = dict[str, Any]


def scale_of(obj: JsonDict) -> JsonDict:
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": int(obj["spec"].get("replicas", 1))},
        "status": {
            "replicas": int((obj.get("status") or {}).get("replicas", 0)),
            "selector": selector_string(obj["spec"].get("selector")),
        },
    }


class Subresources:
    def __init__(self, cluster: Cluster, verbs: ObjectVerbs) -> None:
        self.cluster = cluster
        self.verbs = verbs

    def get_scale(self, resource: ResourceType, namespace: str, name: str) -> Outcome:
        with self.cluster.lock:
            return Outcome(scale_of(self.verbs.lookup(resource, namespace, name)))

    def write_scale(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        data: Any,
        *,
        patch_type: str | None,
        dry_run: bool,
    ) -> Outcome:
        with self.cluster.lock:
            obj = self.verbs.lookup(resource, namespace, name)
            current = scale_of(obj)
            desired = apply_patch(clone(current), data, patch_type) if patch_type else data
            warnings: list[str] = []
            scale = decode_object(
                resource,
                desired,
                warnings,
                model="V1Scale",
                kind="Scale",
                api_version="autoscaling/v1",
            )
            version = scale.get("metadata", {}).get("resourceVersion")
            if version and version != obj["metadata"]["resourceVersion"]:
                raise stale_conflict(resource, name)
            replicas = (scale.get("spec") or {}).get("replicas", 0)
            if not isinstance(replicas, int) or replicas < 0:
                cause = invalid_value(
                    "spec.replicas", replicas, "must be greater than or equal to 0"
                )
                raise invalid(resource, name, [cause], kind="Scale.autoscaling")
            if replicas == obj["spec"].get("replicas") or dry_run:
                preview = clone(current)
                preview["spec"]["replicas"] = replicas
                return Outcome(preview, 200, warnings)
            updated = clone(obj)
            updated["spec"]["replicas"] = replicas
            updated["metadata"]["generation"] = int(updated["metadata"].get("generation", 1)) + 1
            stored = self.cluster.write(resource.plural, updated)
            answer = scale_of(stored)
            self.cluster.reconcile()
            return Outcome(answer, 200, warnings)

    def evict(self, namespace: str, name: str, data: Any, *, dry_run: bool) -> Outcome:
        warnings: list[str] = []
        body = decode_object(
            PODS, data, warnings, model="V1Eviction", kind="Eviction", api_version="policy/v1"
        )
        with self.cluster.lock:
            pod = self.verbs.lookup(PODS, namespace, name)
            if dry_run:
                return Outcome(created_status(), 201, warnings)
            grace = (body.get("deleteOptions") or {}).get("gracePeriodSeconds")
            self.cluster.delete_pod(pod, int(grace) if grace is not None else None)
            self.cluster.reconcile()
            return Outcome(created_status(), 201, warnings)

    def log(self, namespace: str, name: str, query: LogQuery) -> str:
        with self.cluster.lock:
            pod = self.verbs.lookup(PODS, namespace, name)
            container = pick_container(pod, query.container)
            node_name = pod["spec"].get("nodeName")
            if not node_name:
                return ""
            if not self.cluster.kubelet.node_alive(node_name):
                node = self.cluster.store.get("nodes", None, node_name) or {}
                addresses = (node.get("status") or {}).get("addresses") or []
                ip = next(
                    (a["address"] for a in addresses if a.get("type") == "InternalIP"), node_name
                )
                raise unreachable_kubelet(ip, namespace, name, container)
            container_id = choose_container_id(pod, container, query.previous)
            run = self.cluster.kubelet.runs.get(container_id)
            if run is None:
                raise ApiError(
                    400, "BadRequest", f'container "{container}" in pod "{name}" is not available'
                )
            return render_log(run, query, self.cluster.now())
