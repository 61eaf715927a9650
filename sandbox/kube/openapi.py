"""A minimal OpenAPI v3 index: enough for kubectl to see that PATCH takes `fieldValidation`.

kubectl apply validates on the server when the group-version's OpenAPI v3 document lists
the `fieldValidation` query parameter on the kind's PATCH operation; it then builds its
patch from compiled-in types. Schemas (for `kubectl explain`) are not served.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.kube.resources import GROUP_VERSIONS, ResourceType, resources_in

JsonDict = dict[str, Any]
QUERY_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "force")


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _item_path(resource: ResourceType) -> str:
    base = "/" + _gv_path(resource.group, resource.version)
    if resource.namespaced:
        return f"{base}/namespaces/{{namespace}}/{resource.plural}/{{name}}"
    return f"{base}/{resource.plural}/{{name}}"


def _patch_operation(resource: ResourceType) -> JsonDict:
    gvk = {"group": resource.group, "version": resource.version, "kind": resource.kind}
    parameters = [
        {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        for name in QUERY_PARAMETERS
    ]
    return {
        "operationId": f"patch{resource.kind}",
        "parameters": parameters,
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": gvk,
    }


def group_version_document(group: str, version: str) -> JsonDict | None:
    resources = resources_in(group, version)
    if not resources:
        return None
    paths = {_item_path(r): {"patch": _patch_operation(r)} for r in resources}
    title = "Kubernetes"
    return {"openapi": "3.0.0", "info": {"title": title, "version": "unversioned"}, "paths": paths}


def root_document() -> JsonDict:
    paths: JsonDict = {}
    for group, version in GROUP_VERSIONS:
        path = _gv_path(group, version)
        digest = hashlib.sha256(path.encode()).hexdigest()[:32].upper()
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def document_for(path: str) -> JsonDict | None:
    """The document at /openapi/v3/<path>: `api/v1` or `apis/<group>/<version>`."""
    parts = [p for p in path.split("/") if p]
    if parts == ["api", "v1"]:
        return group_version_document("", "v1")
    if len(parts) == 3 and parts[0] == "apis":
        return group_version_document(parts[1], parts[2])
    return None
