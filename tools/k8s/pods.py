"""Pods with phase, readiness, restarts and the last termination reason of each container."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from kubernetes import client
from pydantic import BaseModel, Field

from tools.base import ErrorKind, ToolFailure, ToolResult
from tools.budget import fit_items
from tools.k8s.base import DNS_SUBDOMAIN, KubeTool, NamespacedArgs, dashboard_object
from tools.k8s.connection import kube_call
from tools.timewindow import iso

CRASH_MEMORY = timedelta(minutes=10)
"""How long a container's last failure keeps its pod unhealthy after it is running and ready
again. A crash-looping container is Running and Ready for part of every cycle (an OOM kill a
minute after each start, back-off up to five minutes); a snapshot taken in that part must not
read as a healthy pod."""


class ContainerInfo(BaseModel):
    name: str
    image: str
    ready: bool
    restarts: int
    state: str = Field(description="running, waiting, terminated or unknown.")
    reason: str | None = Field(None, description="Why it waits or terminated now.")
    last_termination_reason: str | None = None
    last_exit_code: int | None = None
    last_finished_at: datetime | None = None
    last_message: str | None = None


class PodInfo(BaseModel):
    name: str
    namespace: str
    phase: str
    node: str | None
    ready: str = Field(description="Ready containers / all containers, e.g. 1/2.")
    restarts: int
    created: datetime | None
    owner: str | None = Field(None, description="Kind/name of the controller.")
    reason: str | None = Field(None, description="Pod-level reason, e.g. Evicted.")
    ready_condition: str | None = Field(
        None, description="Status of the pod's Ready condition (False when its node is lost)."
    )
    terminating_since: datetime | None = Field(None, description="Set while being deleted.")
    containers: list[ContainerInfo]
    healthy: bool = Field(
        description="Running and ready, not being deleted, and no container failed in the "
        "last 10 minutes (or Succeeded)."
    )
    recent_crash: datetime | None = Field(
        None, description="When a container last crashed, if less than 10 minutes ago."
    )


class PodsData(BaseModel):
    """Structured result of k8s_pods."""

    namespace: str
    selector: str | None
    total: int
    pods: list[PodInfo] = Field(description="Unhealthy first, then most restarts.")


class PodsArgs(NamespacedArgs):
    selector: str | None = Field(
        None, max_length=500, description="Label selector, e.g. app=checkout,tier!=cache."
    )
    workload: str | None = Field(
        None,
        max_length=253,
        pattern=DNS_SUBDOMAIN,
        description="Name of a Deployment, StatefulSet or DaemonSet whose pods to list.",
    )
    only_unhealthy: bool = Field(False, description="Only pods not running and ready.")


def container_info(
    spec: client.V1Container, status: client.V1ContainerStatus | None
) -> ContainerInfo:
    info = ContainerInfo(
        name=spec.name, image=spec.image or "", ready=False, restarts=0, state="unknown"
    )
    if status is None:
        return info
    info.ready = bool(status.ready)
    info.restarts = int(status.restart_count or 0)
    state = status.state
    if state is not None and state.running is not None:
        info.state = "running"
    elif state is not None and state.waiting is not None:
        info.state, info.reason = "waiting", state.waiting.reason
    elif state is not None and state.terminated is not None:
        info.state, info.reason = "terminated", state.terminated.reason
    last = status.last_state.terminated if status.last_state is not None else None
    if last is not None:
        info.last_termination_reason = last.reason
        info.last_exit_code = last.exit_code
        info.last_finished_at = last.finished_at
        info.last_message = last.message
    return info


def crashed_recently(container: ContainerInfo, now: datetime) -> bool:
    """Whether the container's last run ended in a failure (OOMKilled, a non-zero exit) less
    than `CRASH_MEMORY` ago: a container that is up again between two crashes."""
    if container.last_finished_at is None or now - container.last_finished_at > CRASH_MEMORY:
        return False
    failed = container.last_exit_code not in (None, 0)
    return failed or container.last_termination_reason not in (None, "Completed")


def pod_info(pod: client.V1Pod, now: datetime) -> PodInfo:
    """What a pod looks like to someone on call: phase, readiness, restarts, and whether it
    is healthy, counting a container that crashed in the last minutes as unhealthy."""
    meta, spec, status = pod.metadata, pod.spec, pod.status
    assert meta is not None
    statuses = {s.name: s for s in (status.container_statuses or [])} if status else {}
    containers = [
        container_info(c, statuses.get(c.name)) for c in (spec.containers if spec else [])
    ]
    phase = (status.phase if status else None) or "Unknown"
    owners = meta.owner_references or []
    conditions = (status.conditions if status else None) or []
    ready_condition = next((c.status for c in conditions if c.type == "Ready"), None)
    healthy = phase == "Succeeded" or (
        phase == "Running"
        and all(c.ready for c in containers)
        and ready_condition in (None, "True")
        and meta.deletion_timestamp is None
        and not (status and status.reason)
    )
    recent_crash = max(
        (c.last_finished_at for c in containers if c.last_finished_at and crashed_recently(c, now)),
        default=None,
    )
    return PodInfo(
        name=meta.name or "",
        namespace=meta.namespace or "",
        phase=phase,
        node=spec.node_name if spec else None,
        ready=f"{sum(c.ready for c in containers)}/{len(containers)}",
        restarts=sum(c.restarts for c in containers),
        created=meta.creation_timestamp,
        owner=f"{owners[0].kind}/{owners[0].name}" if owners else None,
        reason=status.reason if status else None,
        ready_condition=ready_condition,
        terminating_since=meta.deletion_timestamp,
        containers=containers,
        healthy=healthy and recent_crash is None,
        recent_crash=recent_crash,
    )


def describe_pod(pod: PodInfo) -> str:
    line = (
        f"- {pod.name} {pod.phase} {pod.ready} ready, {pod.restarts} restarts, "
        f"node {pod.node or 'none'}"
    )
    if pod.reason:
        line += f", reason {pod.reason}"
    if pod.ready_condition not in (None, "True"):
        line += f", Ready condition {pod.ready_condition}"
    if pod.terminating_since:
        line += f", terminating since {iso(pod.terminating_since)}"
    for c in pod.containers:
        notes = []
        if c.state != "running":
            notes.append(f"{c.state} {c.reason or ''}".strip())
        if c.last_termination_reason:
            when = f" at {iso(c.last_finished_at)}" if c.last_finished_at else ""
            notes.append(
                f"last terminated {c.last_termination_reason} (exit {c.last_exit_code}){when}"
            )
        if notes:
            line += f"; {c.name}: {', '.join(notes)}"
    return line


def selector_string(selector: client.V1LabelSelector | None) -> str:
    """A V1LabelSelector in the query-string form the list calls accept."""
    if selector is None:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.match_labels or {}).items())]
    for expr in selector.match_expressions or []:
        values = ",".join(expr.values or [])
        operator = expr.operator
        if operator == "In":
            parts.append(f"{expr.key} in ({values})")
        elif operator == "NotIn":
            parts.append(f"{expr.key} notin ({values})")
        elif operator == "Exists":
            parts.append(expr.key)
        elif operator == "DoesNotExist":
            parts.append(f"!{expr.key}")
    return ",".join(parts)


class PodsTool(KubeTool[PodsArgs]):
    name = "k8s_pods"
    description = (
        "List pods by label selector or workload name (Deployment/StatefulSet/DaemonSet) with "
        "phase, readiness, restarts, node, and each container's waiting reason and last "
        "termination (e.g. OOMKilled, exit 137). Unhealthy pods come first; a pod whose "
        "container crashed in the last 10 minutes is unhealthy even while it runs again."
    )
    args_model = PodsArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"at most {c.max_pods} pods listed, unhealthy first; about {c.output.max_tokens} tokens"
        )

    def execute(self, args: PodsArgs) -> ToolResult:
        namespace = self.namespace(args.namespace)
        selector = args.selector
        if args.workload:
            workload = self.workload_selector(namespace, args.workload)
            selector = f"{workload},{selector}" if selector else workload
        params: dict[str, Any] = {"labelSelector": selector} if selector else {}
        listed = kube_call(
            f"pods in namespace {namespace}",
            lambda: self.core.list_namespaced_pod(
                namespace, label_selector=selector, _request_timeout=self.timeout
            ),
        )
        now = self.clock()
        pods = [pod_info(p, now) for p in listed.items]
        pods.sort(key=lambda p: (p.healthy, -p.restarts, p.name))
        total = len(pods)
        if args.only_unhealthy:
            pods = [p for p in pods if not p.healthy]
        data = PodsData(
            namespace=namespace, selector=selector, total=total, pods=pods[: self.config.max_pods]
        )
        call = f"GET /api/v1/namespaces/{namespace}/pods"
        scope = f"in {namespace}" + (f" matching {selector}" if selector else "")
        if not pods:
            what = "unhealthy pods" if args.only_unhealthy else "pods"
            content = f"No data: no {what} {scope} ({total} pods in all)."
            evidence = self.evidence(
                call, params, "no data", dashboard_object("pod", namespace, None)
            )
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        unhealthy = sum(1 for p in pods if not p.healthy)
        lines = [describe_pod(p) for p in data.pods]
        content, left_out = fit_items(
            f"{len(pods)} pods {scope}, {unhealthy} unhealthy:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more pods left out; narrow the selector or use only_unhealthy.",
        )
        if len(pods) > len(data.pods):
            content += f"\n({len(pods) - len(data.pods)} more pods beyond the listing cap.)"
        evidence = self.evidence(call, params, lines[0], dashboard_object("pod", namespace, None))
        truncated = left_out > 0 or len(pods) > len(data.pods)
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=truncated
        )

    def workload_selector(self, namespace: str, name: str) -> str:
        """The pod selector of the Deployment, StatefulSet or DaemonSet called `name`."""
        workload = find_workload(self.apps, namespace, name, self.timeout)
        spec = getattr(workload, "spec", None)
        return selector_string(spec.selector if spec is not None else None)


def find_workload(apps: client.AppsV1Api, namespace: str, name: str, timeout: float) -> Any:
    """The Deployment, StatefulSet or DaemonSet called `name` (tried in that order);
    NOT_FOUND, saying what to do instead, when none exists."""
    readers = (
        apps.read_namespaced_deployment,
        apps.read_namespaced_stateful_set,
        apps.read_namespaced_daemon_set,
    )
    for read in readers:
        try:
            return kube_call(
                f"workload {namespace}/{name}",
                partial(read, name, namespace, _request_timeout=timeout),
            )
        except ToolFailure as failure:
            if failure.kind is ErrorKind.NOT_FOUND:
                continue
            raise
    raise ToolFailure(
        ErrorKind.NOT_FOUND,
        f"There is no Deployment, StatefulSet or DaemonSet named {name!r} in {namespace}. "
        "List pods with a label selector instead, or check the namespace.",
    )
