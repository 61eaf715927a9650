"""When a Kubernetes object was last written: the newest `metadata.managedFields` entry
(every create, update and patch that changes an object stamps its writer's entry), else its
creation. Read as metadata only where values must not be fetched (Secrets)."""

from __future__ import annotations

from datetime import datetime

from kubernetes import client

METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"


def written_at(meta: client.V1ObjectMeta | None) -> tuple[datetime | None, str]:
    """When an object was last written and by which manager (its newest managedFields entry),
    else when it was created."""
    if meta is None:
        return None, ""
    writes = [(entry.time, entry) for entry in meta.managed_fields or [] if entry.time]
    if writes:
        at, newest = max(writes, key=lambda pair: pair[0])
        return at, f"{newest.operation or 'write'} by {newest.manager or '?'}"
    return meta.creation_timestamp, "created"
