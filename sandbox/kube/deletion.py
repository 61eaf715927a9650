"""DELETE and deletecollection: graceful pods, terminating namespaces, orphaning, preconditions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.kube.clock import format_time
from sandbox.kube.errors import ApiError, deleted_status
from sandbox.kube.objects import clone
from sandbox.kube.operations import list_item
from sandbox.kube.request_options import ListOptions, Outcome
from sandbox.kube.resources import ResourceType

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster
    from sandbox.kube.operations import ObjectVerbs

JsonDict = dict[str, Any]
UNDELETABLE_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


def _precondition_failed(resource: ResourceType, name: str, detail: str) -> ApiError:
    message = (
        f'Operation cannot be fulfilled on {resource.qualified} "{name}": '
        f"Precondition failed: {detail}"
    )
    return ApiError(409, "Conflict", message, {"name": name, "kind": resource.plural})


def check_preconditions(resource: ResourceType, obj: JsonDict, preconditions: JsonDict) -> None:
    meta = obj["metadata"]
    uid, version = preconditions.get("uid"), preconditions.get("resourceVersion")
    if uid and uid != meta.get("uid"):
        detail = f"UID in precondition: {uid}, UID in object meta: {meta.get('uid')}"
        raise _precondition_failed(resource, meta["name"], detail)
    if version and version != meta.get("resourceVersion"):
        detail = (
            f"ResourceVersion in precondition: {version}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion')}"
        )
        raise _precondition_failed(resource, meta["name"], detail)


class DeleteVerbs:
    def __init__(self, cluster: Cluster, verbs: ObjectVerbs) -> None:
        self.cluster = cluster
        self.verbs = verbs

    def delete(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        options: JsonDict,
        *,
        dry_run: bool,
    ) -> Outcome:
        with self.cluster.lock:
            obj = self.verbs.lookup(resource, namespace, name)
            check_preconditions(resource, obj, options.get("preconditions") or {})
            return Outcome(self._delete_one(resource, obj, options, dry_run=dry_run))

    def _delete_one(
        self, resource: ResourceType, obj: JsonDict, options: JsonDict, *, dry_run: bool
    ) -> JsonDict:
        meta = obj["metadata"]
        if resource.plural == "namespaces" and meta["name"] in UNDELETABLE_NAMESPACES:
            message = f'namespaces "{meta["name"]}" is forbidden: this namespace may not be deleted'
            raise ApiError(403, "Forbidden", message, {"name": meta["name"], "kind": "namespaces"})
        returns_object = resource.plural in ("pods", "namespaces")
        if dry_run:
            return (
                clone(obj)
                if returns_object
                else deleted_status(resource, meta["name"], meta["uid"])
            )
        if options.get("propagationPolicy") == "Orphan" or options.get("orphanDependents") is True:
            self._orphan(obj)
        if resource.plural == "pods":
            grace = options.get("gracePeriodSeconds")
            result = self.cluster.delete_pod(obj, int(grace) if grace is not None else None) or obj
            self.cluster.reconcile()
            return clone(result)
        if resource.plural == "namespaces":
            updated = clone(obj)
            if not meta.get("deletionTimestamp"):
                updated["metadata"]["deletionTimestamp"] = format_time(self.cluster.now())
                updated.setdefault("status", {})["phase"] = "Terminating"
                updated = self.cluster.write("namespaces", updated)
            self.cluster.reconcile()
            return clone(updated)
        if meta.get("finalizers"):
            return self._mark_deleted(resource, obj)
        self.cluster.store.remove(resource.plural, meta.get("namespace"), meta["name"])
        self.cluster.reconcile()
        return deleted_status(resource, meta["name"], meta["uid"])

    def _mark_deleted(self, resource: ResourceType, obj: JsonDict) -> JsonDict:
        """Finalizers hold the object: it gets a deletionTimestamp and is answered as it is."""
        current = obj
        if not obj["metadata"].get("deletionTimestamp"):
            updated = clone(obj)
            updated["metadata"]["deletionTimestamp"] = format_time(self.cluster.now())
            updated["metadata"]["deletionGracePeriodSeconds"] = 0
            current = self.cluster.write(resource.plural, updated)
        self.cluster.reconcile()
        return clone(current)

    def _orphan(self, owner: JsonDict) -> None:
        uid = owner["metadata"]["uid"]
        for plural in ("replicasets", "pods"):
            for obj in list(self.cluster.store.items(plural, owner["metadata"].get("namespace"))):
                refs = obj["metadata"].get("ownerReferences") or []
                if not any(ref.get("uid") == uid for ref in refs):
                    continue
                updated = clone(obj)
                kept = [ref for ref in refs if ref.get("uid") != uid]
                if kept:
                    updated["metadata"]["ownerReferences"] = kept
                else:
                    updated["metadata"].pop("ownerReferences", None)
                self.cluster.write(plural, updated)

    def delete_collection(
        self,
        resource: ResourceType,
        namespace: str | None,
        list_options: ListOptions,
        options: JsonDict,
        *,
        dry_run: bool,
    ) -> Outcome:
        """Answers the list of what was deleted, as the real registry does."""
        with self.cluster.lock:
            deleted = []
            for obj in [clone(o) for o in self.verbs.select(resource, namespace, list_options)]:
                if (
                    resource.plural == "namespaces"
                    and obj["metadata"]["name"] in UNDELETABLE_NAMESPACES
                ):
                    continue
                self._delete_one(resource, obj, options, dry_run=dry_run)
                deleted.append(list_item(obj))
            body = {
                "kind": resource.list_kind,
                "apiVersion": resource.api_version,
                "metadata": {"resourceVersion": str(self.cluster.store.resource_version)},
                "items": deleted,
            }
            return Outcome(body)
