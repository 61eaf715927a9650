"""Which verb a request is, and handing it to the object, delete or subresource verbs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams

from sandbox.kube.deletion import DeleteVerbs
from sandbox.kube.errors import (
    bad_request,
    method_not_allowed,
    path_not_found,
    unsupported_media_type,
)
from sandbox.kube.operations import ObjectVerbs
from sandbox.kube.patching import APPLY_PATCH, PATCH_TYPES
from sandbox.kube.podlogs import LogQuery
from sandbox.kube.request_options import ListOptions, Outcome, dry_run_flag, parse_json
from sandbox.kube.resources import ResourceType, find_resource
from sandbox.kube.subresources import Subresources

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

ACCEPTED_PATCHES = [t for t in PATCH_TYPES if t != APPLY_PATCH]


@dataclass(frozen=True)
class Target:
    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def query_int(query: QueryParams, name: str) -> int | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(str(raw))
    except ValueError as exc:
        raise bad_request(
            f"unable to parse query parameter {name}={raw!r}: not an integer"
        ) from exc


def query_bool(query: QueryParams, name: str) -> bool:
    return str(query.get(name, "")).lower() in ("true", "1")


def resolve(group: str, version: str, segments: list[str]) -> Target:
    """`namespaces/{ns}/{plural}[/{name}[/{sub}]]` or `{plural}[/{name}[/{sub}]]`."""

    def find(plural: str) -> ResourceType:
        resource = find_resource(group, version, plural)
        if resource is None:
            raise path_not_found()
        return resource

    def at(index: int) -> str | None:
        return segments[index] if len(segments) > index else None

    if (
        segments[0] == "namespaces"
        and len(segments) >= 3
        and segments[2] not in ("status", "finalize")
    ):
        resource = find(segments[2])
        if not resource.namespaced or len(segments) > 5:
            raise path_not_found()
        target = Target(resource, segments[1], at(3), at(4))
    else:
        resource = find(segments[0])
        if len(segments) > 3 or (resource.namespaced and len(segments) > 1):
            raise path_not_found()
        target = Target(resource, None, at(1), at(2))
    if target.subresource and target.resource.subresource(target.subresource) is None:
        raise path_not_found()
    return target


def verb_of(method: str, target: Target, query: QueryParams) -> str:
    """The authorization verb of a request (get, list, watch, create, ..., deletecollection)."""
    if method == "GET":
        if target.name is None:
            return "watch" if query_bool(query, "watch") else "list"
        return "get"
    verbs = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
    if method not in verbs:
        raise method_not_allowed()
    if method == "DELETE" and target.name is None:
        return "deletecollection"
    if method == "POST" and target.name is not None and target.subresource != "eviction":
        raise method_not_allowed()
    if method in ("PUT", "PATCH") and target.name is None:
        raise method_not_allowed()
    return verbs[method]


def log_query(query: QueryParams) -> LogQuery:
    tail, since = query_int(query, "tailLines"), query_int(query, "sinceSeconds")
    if since is not None and since < 1:
        raise bad_request("sinceSeconds: Invalid value: must be greater than 0")
    if tail is not None and tail < 0:
        raise bad_request("tailLines: Invalid value: must be greater than or equal to 0")
    return LogQuery(
        container=query.get("container"),
        previous=query_bool(query, "previous"),
        tail_lines=tail,
        since_seconds=since,
        since_time=query.get("sinceTime"),
        timestamps=query_bool(query, "timestamps"),
        limit_bytes=query_int(query, "limitBytes"),
    )


class VerbDispatcher:
    def __init__(self, cluster: Cluster) -> None:
        self.objects = ObjectVerbs(cluster)
        self.deletes = DeleteVerbs(cluster, self.objects)
        self.subresources = Subresources(cluster, self.objects)

    def dispatch(
        self, method: str, target: Target, query: QueryParams, raw: bytes, content_type: str
    ) -> Outcome | str:
        """Run one request's verb; pod logs answer text, everything else an Outcome."""
        if target.subresource == "log":
            return self.subresources.log(str(target.namespace), str(target.name), log_query(query))
        dry_run = dry_run_flag(query.getlist("dryRun"))
        if method == "GET":
            return self._read(target, query)
        if method == "DELETE":
            return self._delete(target, query, raw, dry_run)
        return self._write(method, target, query, parse_json(raw), content_type, dry_run)

    def _read(self, target: Target, query: QueryParams) -> Outcome:
        resource, namespace, name = target.resource, target.namespace, target.name
        if name is None:
            options = ListOptions(
                query.get("labelSelector"),
                query.get("fieldSelector"),
                query_int(query, "limit"),
                query.get("continue"),
            )
            return self.objects.list_objects(resource, namespace, options)
        if target.subresource == "scale":
            return self.subresources.get_scale(resource, str(namespace), name)
        return self.objects.get(resource, namespace, name)

    def _write(
        self,
        method: str,
        target: Target,
        query: QueryParams,
        data: Any,
        content_type: str,
        dry_run: bool,
    ) -> Outcome:
        resource, namespace, name, sub = (
            target.resource,
            target.namespace,
            str(target.name),
            target.subresource,
        )
        strict = query.get("fieldValidation") == "Strict"
        manager = query.get("fieldManager")
        if method == "POST":
            if sub == "eviction":
                return self.subresources.evict(str(namespace), name, data, dry_run=dry_run)
            return self.objects.create(
                resource, namespace, data, dry_run=dry_run, strict=strict, manager=manager
            )
        patch_type = content_type if method == "PATCH" else None
        if patch_type is not None and patch_type not in ACCEPTED_PATCHES:
            raise unsupported_media_type(patch_type, ACCEPTED_PATCHES)
        if sub == "scale":
            return self.subresources.write_scale(
                resource, str(namespace), name, data, patch_type=patch_type, dry_run=dry_run
            )
        if patch_type is not None:
            return self.objects.patch(
                resource,
                namespace,
                name,
                data,
                patch_type,
                dry_run=dry_run,
                subresource=sub,
                strict=strict,
                manager=manager,
            )
        return self.objects.update(
            resource,
            namespace,
            name,
            data,
            dry_run=dry_run,
            subresource=sub,
            strict=strict,
            manager=manager,
        )

    def _delete(self, target: Target, query: QueryParams, raw: bytes, dry_run: bool) -> Outcome:
        options: Any = parse_json(raw) if raw.strip() else {}
        if not isinstance(options, dict):
            raise bad_request("DeleteOptions must be a JSON object")
        if query.get("gracePeriodSeconds") is not None:
            options["gracePeriodSeconds"] = query_int(query, "gracePeriodSeconds")
        if query.get("propagationPolicy") is not None:
            options["propagationPolicy"] = query.get("propagationPolicy")
        dry_run = dry_run or bool(options.get("dryRun"))
        if target.name is None:
            selection = ListOptions(query.get("labelSelector"), query.get("fieldSelector"))
            return self.deletes.delete_collection(
                target.resource, target.namespace, selection, options, dry_run=dry_run
            )
        return self.deletes.delete(
            target.resource, target.namespace, target.name, options, dry_run=dry_run
        )
