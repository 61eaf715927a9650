"""The REST verbs on objects: create, get, list, update, patch, delete, deletecollection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.kube.config_objects import validate_config_object, validate_config_update
from sandbox.kube.defaults import default_object
from sandbox.kube.errors import (
    ApiError,
    Cause,
    already_exists,
    bad_request,
    invalid,
    namespace_not_found,
    not_found,
    stale_conflict,
)
from sandbox.kube.identity import prune_empty
from sandbox.kube.label_selectors import (
    fields_match,
    labels_match,
    object_fields,
    parse_field_selector,
    parse_label_selector,
)
from sandbox.kube.managed_fields import operation_of, record_write
from sandbox.kube.objects import clone, is_terminating
from sandbox.kube.patching import apply_patch
from sandbox.kube.request_options import (
    ListOptions,
    Outcome,
    decode_continue,
    decode_object,
    encode_continue,
)
from sandbox.kube.resources import ResourceType
from sandbox.kube.validation import invalid_value, validate_object, validate_pod_update
from sandbox.kube.validation_storage import validate_storage_object, validate_storage_update
from sandbox.kube.volume_admission import admit_create, admit_update

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
NAMESPACE_MISMATCH = (
    "the namespace of the provided object does not match the namespace sent on the request"
)
SYSTEM_FIELDS = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)
UNDELETABLE_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})
# Kinds whose create strategy throws away a posted status (it belongs to controllers).
STATUS_RESET_ON_CREATE = frozenset(
    {"pods", "deployments", "replicasets", "namespaces", "persistentvolumeclaims"}
    | {"persistentvolumes", "jobs", "horizontalpodautoscalers"}
)


def list_item(obj: JsonDict) -> JsonDict:
    """List items carry no kind/apiVersion of their own, as on a real server."""
    return {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}


class ObjectVerbs:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    # -- reads ---------------------------------------------------------------------------
    def lookup(self, resource: ResourceType, namespace: str | None, name: str) -> JsonDict:
        obj = self.cluster.store.get(
            resource.plural, namespace if resource.namespaced else None, name
        )
        if obj is None:
            raise not_found(resource, name)
        return obj

    def get(self, resource: ResourceType, namespace: str | None, name: str) -> Outcome:
        with self.cluster.lock:
            return Outcome(clone(self.lookup(resource, namespace, name)))

    def select(
        self, resource: ResourceType, namespace: str | None, options: ListOptions
    ) -> list[JsonDict]:
        labels = parse_label_selector(options.label_selector)
        fields = parse_field_selector(options.field_selector, resource.field_labels)
        items = self.cluster.store.items(
            resource.plural, namespace if resource.namespaced else None
        )
        return [
            obj
            for obj in items
            if labels_match(labels, obj["metadata"].get("labels"))
            and fields_match(fields, object_fields(obj, resource.field_labels))
        ]

    def list_objects(
        self, resource: ResourceType, namespace: str | None, options: ListOptions
    ) -> Outcome:
        with self.cluster.lock:
            items = self.select(resource, namespace, options)
            resource_version = self.cluster.store.resource_version
            if options.continue_token:
                resource_version, start = decode_continue(options.continue_token)
                items = [o for o in items if _key(o) >= start]
            metadata: JsonDict = {"resourceVersion": str(resource_version)}
            if options.limit and options.limit > 0 and len(items) > options.limit:
                rest = len(items) - options.limit
                items = items[: options.limit]
                metadata["continue"] = encode_continue(resource_version, _key(items[-1]))
                if not options.label_selector and not options.field_selector:
                    metadata["remainingItemCount"] = rest
            body = {
                "kind": resource.list_kind,
                "apiVersion": resource.api_version,
                "metadata": metadata,
                "items": [list_item(clone(o)) for o in items],
            }
            return Outcome(body)

    # -- writes --------------------------------------------------------------------------
    def _check_namespace(self, resource: ResourceType, namespace: str | None) -> None:
        if not resource.namespaced or namespace is None:
            return
        found = self.cluster.store.get("namespaces", None, namespace)
        if found is None:
            raise namespace_not_found(namespace)
        if is_terminating(found):
            message = (
                f"{resource.plural} is forbidden: unable to create new content in namespace "
                f"{namespace} because it is being terminated"
            )
            raise ApiError(403, "Forbidden", message, {"kind": resource.plural})

    def create(
        self,
        resource: ResourceType,
        namespace: str | None,
        data: Any,
        *,
        dry_run: bool,
        strict: bool = False,
        manager: str | None = None,
    ) -> Outcome:
        warnings: list[str] = []
        body = decode_object(resource, data, warnings, strict=strict)
        meta = body.setdefault("metadata", {})
        if resource.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise bad_request(NAMESPACE_MISMATCH)
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        with self.cluster.lock:
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = f"{meta['generateName']}{self.cluster.ids.suffix()}"
            for key in SYSTEM_FIELDS:
                meta.pop(key, None)
            if resource.plural in STATUS_RESET_ON_CREATE:
                body.pop("status", None)
            admit_create(self.cluster.store, resource.plural, body)
            default_object(resource.plural, body)
            causes = validate_object(resource.plural, body)
            causes += validate_storage_object(resource.plural, body)
            causes += validate_config_object(resource.plural, body)
            if causes:
                raise invalid(resource, str(meta.get("name") or ""), causes)
            self._check_namespace(resource, meta.get("namespace"))
            if (
                self.cluster.store.get(resource.plural, meta.get("namespace"), meta["name"])
                is not None
            ):
                raise already_exists(resource, meta["name"])
            body["apiVersion"] = resource.api_version
            record_write(body, self.cluster.now(), manager=manager, operation="Update")
            created = self.cluster.create_object(resource.plural, body, dry_run=dry_run)
            if not dry_run:
                self.cluster.reconcile()
            return Outcome(clone(created), 201, warnings)

    def update(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        data: Any,
        *,
        dry_run: bool,
        subresource: str | None = None,
        strict: bool = False,
        manager: str | None = None,
    ) -> Outcome:
        warnings: list[str] = []
        body = decode_object(resource, data, warnings, strict=strict)
        meta = body.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name "
                f"on the URL ({name})"
            )
        if resource.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request(NAMESPACE_MISMATCH)
        with self.cluster.lock:
            old = self.lookup(resource, namespace, name)
            return self._commit(
                resource,
                old,
                body,
                dry_run=dry_run,
                subresource=subresource,
                warnings=warnings,
                writer=(manager, operation_of(None)),
            )

    def patch(
        self,
        resource: ResourceType,
        namespace: str | None,
        name: str,
        patch: Any,
        content_type: str,
        *,
        dry_run: bool,
        subresource: str | None = None,
        strict: bool = False,
        manager: str | None = None,
    ) -> Outcome:
        with self.cluster.lock:
            old = self.lookup(resource, namespace, name)
            patched = apply_patch(clone(old), patch, content_type)
            warnings: list[str] = []
            body = decode_object(resource, patched, warnings, strict=strict)
            meta = body.setdefault("metadata", {})
            if meta.get("name") != name:
                raise bad_request(
                    f"the name of the object ({meta.get('name')}) does not match the name "
                    f"on the URL ({name})"
                )
            return self._commit(
                resource,
                old,
                body,
                dry_run=dry_run,
                subresource=subresource,
                warnings=warnings,
                writer=(manager, operation_of(content_type)),
            )

    def _commit(
        self,
        resource: ResourceType,
        old: JsonDict,
        new: JsonDict,
        *,
        dry_run: bool,
        subresource: str | None,
        warnings: list[str],
        writer: tuple[str | None, str] = (None, "Update"),
    ) -> Outcome:
        old_meta, meta = old["metadata"], new["metadata"]
        if meta.get("resourceVersion") and meta["resourceVersion"] != old_meta.get(
            "resourceVersion"
        ):
            raise stale_conflict(resource, old_meta["name"])
        if subresource == "status":
            result = clone(old)
            result["status"] = new.get("status") or {}
        else:
            result = new
            meta["name"] = old_meta["name"]
            if old_meta.get("namespace"):
                meta["namespace"] = old_meta["namespace"]
            for key in SYSTEM_FIELDS:
                if key in old_meta:
                    meta[key] = old_meta[key]
                else:
                    meta.pop(key, None)
            if resource.has_status and "status" in old:
                result["status"] = clone(old["status"])
            default_object(resource.plural, result)
            self._validate_update(resource, old, result)
            if "generation" in old_meta and prune_empty(old.get("spec")) != prune_empty(
                result.get("spec")
            ):
                meta["generation"] = int(old_meta["generation"]) + 1
        result["metadata"]["resourceVersion"] = old_meta.get("resourceVersion")
        if _unchanged(result, old) or dry_run:
            return Outcome(clone(result), 200, warnings)
        result.setdefault("apiVersion", resource.api_version)
        record_write(
            result,
            self.cluster.now(),
            manager=writer[0],
            operation=writer[1],
            subresource=subresource,
            previous=old_meta.get("managedFields"),
        )
        stored = self.cluster.write(resource.plural, result)
        if finalized(resource, stored):
            self.cluster.store.remove(
                resource.plural, stored["metadata"].get("namespace"), stored["metadata"]["name"]
            )
        self.cluster.reconcile()
        return Outcome(clone(stored), 200, warnings)

    def _validate_update(self, resource: ResourceType, old: JsonDict, new: JsonDict) -> None:
        causes: list[Cause] = validate_object(resource.plural, new)
        causes += validate_storage_update(resource.plural, old, new)
        causes += validate_config_object(resource.plural, new)
        causes += validate_config_update(resource.plural, old, new)
        if resource.plural == "pods":
            causes += validate_pod_update(old, new)
        if resource.plural in ("deployments", "replicasets"):
            old_selector = (old.get("spec") or {}).get("selector")
            if old_selector != (new.get("spec") or {}).get("selector"):
                causes.append(
                    invalid_value(
                        "spec.selector",
                        (new.get("spec") or {}).get("selector"),
                        "field is immutable",
                    )
                )
        if causes:
            raise invalid(resource, old["metadata"]["name"], causes)
        admit_update(self.cluster.store, resource.plural, old, new)


def _unchanged(new: JsonDict, old: JsonDict) -> bool:
    """Nothing but the write record differs (a no-op write stamps no managedFields)."""

    def bare(obj: JsonDict) -> Any:
        meta = {k: v for k, v in obj.get("metadata", {}).items() if k != "managedFields"}
        return prune_empty({**obj, "metadata": meta})

    return bool(bare(new) == bare(old))


def finalized(resource: ResourceType, obj: JsonDict) -> bool:
    """A deleted object whose last finalizer is gone (pods and namespaces finish otherwise)."""
    return (
        resource.plural not in ("pods", "namespaces")
        and is_terminating(obj)
        and not obj["metadata"].get("finalizers")
    )


def _key(obj: JsonDict) -> str:
    return f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
