"""PersistentVolumeClaims with size, class, expandability and the pods that mount them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from kubernetes import client
from kubernetes.utils import parse_quantity
from pydantic import BaseModel, Field

from tools.base import ToolArgs, ToolResult
from tools.budget import fit_items
from tools.k8s.base import DNS_SUBDOMAIN, KubeTool, dashboard_object, namespace_field
from tools.k8s.connection import kube_call

GIB = 1024**3
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


class VolumeClaimInfo(BaseModel):
    name: str
    namespace: str
    phase: str = Field(description="Bound, Pending or Lost; Terminating while being deleted.")
    volume: str | None
    requested_bytes: int | None = Field(description="spec.resources.requests.storage.")
    capacity_bytes: int | None = Field(description="status.capacity.storage: what pods see.")
    storage_class: str | None
    expandable: bool = Field(description="Its StorageClass has allowVolumeExpansion: true.")
    resizing: str | None = Field(
        None, description="Resizing or FileSystemResizePending while an expansion runs."
    )
    mounted_by: list[str] = Field(description="Pods (not finished) that mount the claim.")
    created: datetime | None

    @property
    def attached(self) -> bool:
        return bool(self.mounted_by)


class VolumeClaimsData(BaseModel):
    """Structured result of k8s_volume_claims."""

    namespace: str | None = Field(description="None: all namespaces.")
    total: int
    claims: list[VolumeClaimInfo] = Field(description="Unattached first, then by name.")


class VolumeClaimsArgs(ToolArgs):
    namespace: str | None = namespace_field()
    all_namespaces: bool = Field(False, description="List claims of every namespace.")
    name: str | None = Field(
        None, max_length=253, pattern=DNS_SUBDOMAIN, description="One claim; omit for all."
    )
    only_unattached: bool = Field(False, description="Only claims no running pod mounts.")


def _bytes(quantity: Any) -> int | None:
    if quantity is None:
        return None
    return int(parse_quantity(str(quantity)))  # type: ignore[no-untyped-call]


def gib(value: int | None) -> str:
    return "?" if value is None else f"{value / GIB:g}Gi"


def mounts_by_claim(pods: list[client.V1Pod]) -> dict[tuple[str, str], list[str]]:
    """(namespace, claim) -> names of the pods mounting it; finished pods do not count."""
    mounts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pod in pods:
        if pod.status is not None and pod.status.phase in ("Succeeded", "Failed"):
            continue
        for volume in (pod.spec.volumes if pod.spec else None) or []:
            source = volume.persistent_volume_claim
            if source is not None and source.claim_name:
                meta = pod.metadata or client.V1ObjectMeta()
                key = (str(meta.namespace or ""), str(source.claim_name))
                mounts[key].append(str(meta.name or ""))
    return mounts


def expandable_classes(classes: list[client.V1StorageClass]) -> dict[str, bool]:
    return {
        str(c.metadata.name if c.metadata else ""): bool(c.allow_volume_expansion) for c in classes
    }


def claim_info(
    claim: client.V1PersistentVolumeClaim,
    expandable: dict[str, bool],
    mounts: dict[tuple[str, str], list[str]],
) -> VolumeClaimInfo:
    meta, spec, status = claim.metadata or client.V1ObjectMeta(), claim.spec, claim.status
    name, namespace = str(meta.name or ""), str(meta.namespace or "")
    requests = (spec.resources.requests if spec and spec.resources else None) or {}
    capacity = (status.capacity if status else None) or {}
    conditions = (status.conditions if status else None) or []
    resizing = next(
        (c.type for c in conditions if c.type in ("Resizing", "FileSystemResizePending")), None
    )
    phase = "Terminating" if meta.deletion_timestamp else (status.phase if status else None)
    storage_class = spec.storage_class_name if spec else None
    return VolumeClaimInfo(
        name=name,
        namespace=namespace,
        phase=phase or "Pending",
        volume=spec.volume_name if spec else None,
        requested_bytes=_bytes(requests.get("storage")),
        capacity_bytes=_bytes(capacity.get("storage")),
        storage_class=storage_class,
        expandable=expandable.get(storage_class or "", False),
        resizing=resizing,
        mounted_by=sorted(mounts.get((namespace, name), [])),
        created=meta.creation_timestamp,
    )


def describe_claim(info: VolumeClaimInfo) -> str:
    size = gib(info.capacity_bytes)
    if info.requested_bytes != info.capacity_bytes:
        size += f" (requested {gib(info.requested_bytes)})"
    expand = "expandable" if info.expandable else "not expandable"
    mounted = f"mounted by {', '.join(info.mounted_by)}" if info.mounted_by else "UNATTACHED"
    line = (
        f"- {info.namespace}/{info.name} {info.phase} {size}, class "
        f"{info.storage_class or 'none'} ({expand}), {mounted}"
    )
    return line + (f", {info.resizing}" if info.resizing else "")


class VolumeClaimsTool(KubeTool[VolumeClaimsArgs]):
    name = "k8s_volume_claims"
    description = (
        "List PersistentVolumeClaims with capacity, requested size, storage class, whether the "
        "class allows expansion, any resize in progress, and the pods that mount each claim "
        "(claims no pod mounts are flagged UNATTACHED and listed first)."
    )
    args_model = VolumeClaimsArgs

    def caps(self) -> str:
        c = self.config
        return f"about {c.output.max_tokens} tokens of output, the rest counted"

    def execute(self, args: VolumeClaimsArgs) -> ToolResult:
        namespace = None if args.all_namespaces else self.namespace(args.namespace)
        where = f"in {namespace}" if namespace else "in all namespaces"
        if namespace is None:
            claims = kube_call(
                "volume claims in all namespaces",
                lambda: self.core.list_persistent_volume_claim_for_all_namespaces(
                    _request_timeout=self.timeout
                ),
            ).items
            pods = kube_call(
                "pods in all namespaces",
                lambda: self.core.list_pod_for_all_namespaces(_request_timeout=self.timeout),
            ).items
        else:
            claims = kube_call(
                f"volume claims {where}",
                lambda: self.core.list_namespaced_persistent_volume_claim(
                    namespace, _request_timeout=self.timeout
                ),
            ).items
            pods = kube_call(
                f"pods {where}",
                lambda: self.core.list_namespaced_pod(namespace, _request_timeout=self.timeout),
            ).items
        storage = client.StorageV1Api(self.api_client)
        classes = kube_call(
            "storage classes",
            lambda: storage.list_storage_class(_request_timeout=self.timeout),
        ).items
        mounts, expandable = mounts_by_claim(pods), expandable_classes(classes)
        infos = [claim_info(c, expandable, mounts) for c in claims]
        if args.name:
            infos = [i for i in infos if i.name == args.name]
        total = len(infos)
        if args.only_unattached:
            infos = [i for i in infos if not i.attached]
        infos.sort(key=lambda i: (i.attached, i.namespace, i.name))
        data = VolumeClaimsData(namespace=namespace, total=total, claims=infos)
        call = (
            f"GET /api/v1/namespaces/{namespace}/persistentvolumeclaims"
            if namespace
            else "GET /api/v1/persistentvolumeclaims"
        )
        link = dashboard_object("persistentvolumeclaim", namespace, None)
        if not infos:
            what = "unattached volume claims" if args.only_unattached else "volume claims"
            named = f" named {args.name}" if args.name else ""
            content = f"No data: no {what}{named} {where}."
            evidence = self.evidence(call, {}, "no data", link)
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        lines = [describe_claim(i) for i in infos]
        unattached = sum(1 for i in infos if not i.attached)
        content, left_out = fit_items(
            f"{len(infos)} volume claims {where}, {unattached} unattached:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more claims left out; name a namespace or claim.",
        )
        evidence = self.evidence(call, {}, lines[0], link)
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )
