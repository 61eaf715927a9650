"""Background cascading deletion by owner references, and namespace termination."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.kube.objects import clone, is_terminating
from sandbox.kube.resources import RESOURCE_TYPES

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
DEPENDENT_TYPES = ("replicasets", "pods", "leases")


class GarbageCollector:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def reconcile(self) -> None:
        self._collect_orphans()
        self._collect_pods_of_missing_nodes()
        self._finish_namespaces()

    def _collect_pods_of_missing_nodes(self) -> None:
        """Like the pod GC: pods bound to a node that no longer exists are force-deleted."""
        store = self.cluster.store
        nodes = {node["metadata"]["name"] for node in store.items("nodes")}
        for pod in list(store.items("pods")):
            node = pod["spec"].get("nodeName")
            if node and node not in nodes:
                store.remove("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])

    def _collect_orphans(self) -> None:
        store = self.cluster.store
        for plural in DEPENDENT_TYPES:
            for obj in list(store.items(plural)):
                refs = obj["metadata"].get("ownerReferences") or []
                if not refs or is_terminating(obj):
                    continue
                if any(self._owner_exists(obj, ref) for ref in refs):
                    continue
                if plural == "pods":
                    self.cluster.delete_pod(obj)
                else:
                    store.remove(plural, obj["metadata"].get("namespace"), obj["metadata"]["name"])

    def _owner_exists(self, obj: JsonDict, ref: JsonDict) -> bool:
        resource = next((r for r in RESOURCE_TYPES if r.kind == ref.get("kind")), None)
        if resource is None:
            return True  # owners of kinds this server does not serve are left alone
        namespace = obj["metadata"].get("namespace") if resource.namespaced else None
        owner = self.cluster.store.get(resource.plural, namespace, ref.get("name", ""))
        return owner is not None and owner["metadata"].get("uid") == ref.get("uid")

    def _finish_namespaces(self) -> None:
        store = self.cluster.store
        for namespace in list(store.items("namespaces")):
            if not is_terminating(namespace):
                continue
            name = namespace["metadata"]["name"]
            remaining = 0
            for resource in RESOURCE_TYPES:
                if not resource.namespaced:
                    continue
                for obj in list(store.items(resource.plural, name)):
                    remaining += 1
                    if resource.plural == "pods":
                        self.cluster.delete_pod(obj)
                    else:
                        store.remove(resource.plural, name, obj["metadata"]["name"])
            if remaining == 0:
                store.remove("namespaces", None, name)
            elif (namespace.get("status") or {}).get("phase") != "Terminating":
                updated = clone(namespace)
                updated.setdefault("status", {})["phase"] = "Terminating"
                store.put("namespaces", updated)
