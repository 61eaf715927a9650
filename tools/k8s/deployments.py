"""Deployment status and rollout history, with what changed at each revision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubernetes import client
from pydantic import BaseModel, Field

from tools.base import ToolResult
from tools.budget import fit_items
from tools.k8s.base import KubeTool, NamespacedArgs, dashboard_object, name_field
from tools.k8s.connection import kube_call
from tools.k8s.nodes import ConditionInfo
from tools.k8s.pods import selector_string
from tools.k8s.rollout import TemplateChange, template_changes
from tools.timewindow import iso

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"


class RevisionInfo(BaseModel):
    revision: int
    replicaset: str
    created: datetime | None
    images: list[str]
    replicas: int
    ready: int
    change_cause: str | None = None
    current: bool = False
    changes: list[TemplateChange] = Field(
        default_factory=list, description="Differences from the previous revision."
    )


class DeploymentData(BaseModel):
    """Structured result of k8s_deployment."""

    namespace: str
    name: str
    revision: int | None
    desired: int
    updated: int
    ready: int
    available: int
    unavailable: int
    strategy: str | None
    paused: bool
    conditions: list[ConditionInfo]
    revisions: list[RevisionInfo] = Field(description="Newest first.")


class DeploymentArgs(NamespacedArgs):
    name: str = name_field("Deployment name.")
    history: bool = Field(True, description="Include rollout history and what each changed.")


class DeploymentTool(KubeTool[DeploymentArgs]):
    name = "k8s_deployment"
    description = (
        "Show a Deployment's rollout status (desired/updated/ready/available replicas, "
        "conditions) and its rollout history: each revision's ReplicaSet, images, and what "
        "changed from the previous revision (image, env, resources, other template fields)."
    )
    args_model = DeploymentArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"at most {c.max_revisions} revisions, newest first; about {c.output.max_tokens} tokens"
        )

    def execute(self, args: DeploymentArgs) -> ToolResult:
        namespace = self.namespace(args.namespace)
        deployment = kube_call(
            f"deployment {namespace}/{args.name}",
            lambda: self.apps.read_namespaced_deployment(
                args.name, namespace, _request_timeout=self.timeout
            ),
        )
        data = deployment_data(deployment)
        link = dashboard_object("deployment", namespace, args.name)
        evidence = [
            self.evidence(
                f"GET /apis/apps/v1/namespaces/{namespace}/deployments/{args.name}",
                {},
                status_line(data),
                link,
            )
        ]
        if args.history:
            selector = selector_string(deployment.spec.selector if deployment.spec else None)
            replica_sets = kube_call(
                f"replicasets of deployment {namespace}/{args.name}",
                lambda: self.apps.list_namespaced_replica_set(
                    namespace, label_selector=selector, _request_timeout=self.timeout
                ),
            ).items
            uid = deployment.metadata.uid if deployment.metadata else None
            owned = [rs for rs in replica_sets if _owned_by(rs, uid)]
            data.revisions = revisions(owned, data.revision)
            data.revisions = data.revisions[: self.config.max_revisions]
            params: dict[str, Any] = {"labelSelector": selector}
            call = f"GET /apis/apps/v1/namespaces/{namespace}/replicasets"
            excerpt = describe_revision(data.revisions[0]) if data.revisions else "no revisions"
            evidence.append(self.evidence(call, params, excerpt, link))
        lines = [status_line(data), *(f"- {_condition(c)}" for c in data.conditions)]
        if data.revisions:
            lines.append("Rollout history, newest first:")
            lines.extend(describe_revision(r) for r in data.revisions)
        content, left_out = fit_items(
            f"Deployment {namespace}/{args.name}:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} older lines of history left out.",
        )
        return ToolResult.success(
            self.name, content, data=data, evidence=evidence, truncated=left_out > 0
        )


def deployment_data(deployment: client.V1Deployment) -> DeploymentData:
    meta, spec, status = deployment.metadata, deployment.spec, deployment.status
    assert meta is not None
    revision = (meta.annotations or {}).get(REVISION)
    return DeploymentData(
        namespace=meta.namespace or "",
        name=meta.name or "",
        revision=int(revision) if revision else None,
        desired=int((spec.replicas if spec else None) or 0),
        updated=int((status.updated_replicas if status else None) or 0),
        ready=int((status.ready_replicas if status else None) or 0),
        available=int((status.available_replicas if status else None) or 0),
        unavailable=int((status.unavailable_replicas if status else None) or 0),
        strategy=spec.strategy.type if spec and spec.strategy else None,
        paused=bool(spec and spec.paused),
        conditions=[
            ConditionInfo(type=c.type, status=c.status, reason=c.reason, message=c.message)
            for c in ((status.conditions if status else None) or [])
        ],
        revisions=[],
    )


def revisions(replica_sets: list[client.V1ReplicaSet], current: int | None) -> list[RevisionInfo]:
    """One entry per ReplicaSet, newest first, each with its changes from the one before."""
    ordered = sorted(replica_sets, key=_revision_of)
    templates = [
        rs.spec.template.model_dump(by_alias=True, exclude_none=True, mode="json")
        if rs.spec and rs.spec.template
        else {}
        for rs in ordered
    ]
    infos: list[RevisionInfo] = []
    for index, rs in enumerate(ordered):
        meta, spec, status = rs.metadata, rs.spec, rs.status
        template_spec = spec.template.spec if spec and spec.template else None
        revision = _revision_of(rs)
        infos.append(
            RevisionInfo(
                revision=revision,
                replicaset=meta.name if meta and meta.name else "",
                created=meta.creation_timestamp if meta else None,
                images=[c.image or "" for c in (template_spec.containers if template_spec else [])],
                replicas=int((status.replicas if status else None) or 0),
                ready=int((status.ready_replicas if status else None) or 0),
                change_cause=(meta.annotations or {}).get(CHANGE_CAUSE) if meta else None,
                current=revision == current,
                changes=template_changes(templates[index - 1], templates[index]) if index else [],
            )
        )
    infos.reverse()
    return infos


def status_line(data: DeploymentData) -> str:
    state = "paused" if data.paused else f"strategy {data.strategy or '?'}"
    return (
        f"revision {data.revision}: {data.desired} desired, {data.updated} updated, "
        f"{data.ready} ready, {data.available} available, {data.unavailable} unavailable; {state}"
    )


def describe_revision(info: RevisionInfo) -> str:
    created = iso(info.created) if info.created else "?"
    current = " (current)" if info.current else ""
    line = (
        f"- revision {info.revision}{current}: {info.replicaset} created {created}, "
        f"{info.ready}/{info.replicas} pods ready, images {', '.join(info.images)}"
    )
    if info.change_cause:
        line += f", cause {info.change_cause!r}"
    if info.changes:
        line += "; changed: " + "; ".join(change.describe() for change in info.changes)
    return line


def _condition(condition: ConditionInfo) -> str:
    detail = ": ".join(p for p in (condition.reason, condition.message) if p)
    return f"{condition.type}={condition.status}" + (f" ({detail})" if detail else "")


def _revision_of(rs: client.V1ReplicaSet) -> int:
    value = ((rs.metadata.annotations if rs.metadata else None) or {}).get(REVISION, "0")
    return int(value) if str(value).isdigit() else 0


def _owned_by(rs: client.V1ReplicaSet, uid: str | None) -> bool:
    owners = (rs.metadata.owner_references if rs.metadata else None) or []
    return any(owner.uid == uid for owner in owners)
