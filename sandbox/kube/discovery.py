"""Discovery documents: /version, /api, /apis and the per group-version resource lists."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from sandbox.kube.resources import (
    ALL_VERBS,
    GROUP_VERSIONS,
    NAMESPACES,
    NODES,
    ResourceType,
    resources_in,
)

JsonDict = dict[str, Any]


def version_info(git_version: str) -> JsonDict:
    major, minor = git_version.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
        "gitVersion": git_version,
        "gitCommit": hashlib.sha1(git_version.encode()).hexdigest(),  # noqa: S324 - an identifier, not security
        "gitTreeState": "clean",
        "buildDate": "2025-06-17T18:27:30Z",
        "goVersion": "go1.24.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> JsonDict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str) -> JsonDict:
    versions = [
        {"groupVersion": f"{name}/{v}", "version": v} for g, v in GROUP_VERSIONS if g == name
    ]
    return {"name": name, "versions": versions, "preferredVersion": versions[0]}


def api_group(name: str) -> JsonDict | None:
    if not any(g == name for g, _ in GROUP_VERSIONS if g):
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}


def api_group_list() -> JsonDict:
    names = [g for g, _ in GROUP_VERSIONS if g]
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(n) for n in dict.fromkeys(names)],
    }


def _verbs(resource: ResourceType) -> list[str]:
    if resource in (NAMESPACES,):
        return [v for v in ALL_VERBS if v != "deletecollection"]
    return list(ALL_VERBS)


def _storage_hash(resource: ResourceType) -> str:
    digest = hashlib.sha256(f"{resource.api_version}/{resource.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def resource_list(group: str, version: str) -> JsonDict | None:
    resources = resources_in(group, version)
    if not resources:
        return None
    entries: list[JsonDict] = []
    for resource in sorted(resources, key=lambda r: r.plural):
        entry: JsonDict = {
            "name": resource.plural,
            "singularName": resource.singular,
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": _verbs(resource),
        }
        if resource.short_names:
            entry["shortNames"] = list(resource.short_names)
        if resource.categories:
            entry["categories"] = list(resource.categories)
        entry["storageVersionHash"] = _storage_hash(resource)
        entries.append(entry)
        for sub in resource.subresources:
            sub_entry: JsonDict = {
                "name": f"{resource.plural}/{sub.name}",
                "singularName": "",
                "namespaced": resource.namespaced,
            }
            if sub.group is not None:
                sub_entry["group"], sub_entry["version"] = sub.group, sub.version
            sub_entry["kind"], sub_entry["verbs"] = sub.kind, list(sub.verbs)
            entries.append(sub_entry)
    body: JsonDict = {"kind": "APIResourceList"}
    if group:
        body["apiVersion"] = "v1"
    body["groupVersion"] = f"{group}/{version}" if group else version
    body["resources"] = entries
    return body


__all__ = ["NODES", "api_group", "api_group_list", "api_versions", "resource_list", "version_info"]
