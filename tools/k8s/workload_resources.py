"""A workload's resource requests and limits next to what its pods went through: restarts
and the last OOM kill, so a limit can be read against the kill it caused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from tools.base import ToolResult
from tools.budget import fit_items
from tools.k8s.base import KubeTool, NamespacedArgs, dashboard_object, name_field
from tools.k8s.connection import kube_call
from tools.k8s.pods import ContainerInfo, PodInfo, find_workload, pod_info, selector_string
from tools.timewindow import iso

OOM_REASON = "OOMKilled"


class ContainerResources(BaseModel):
    """Requests and limits of one container of the pod template, as written in the spec."""

    name: str
    image: str
    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)


class OomKill(BaseModel):
    """The newest OOM kill the API still records (each container keeps its last
    termination only)."""

    pod: str
    container: str
    finished_at: datetime | None
    exit_code: int | None
    memory_limit: str | None


class WorkloadResourcesData(BaseModel):
    """Structured result of workload_resources."""

    namespace: str
    name: str
    kind: str
    replicas: int | None
    containers: list[ContainerResources]
    last_oom: OomKill | None
    oom_killed_containers: int = Field(
        description="Containers whose last termination was an OOM kill."
    )
    pods: list[PodInfo] = Field(description="Unhealthy first, then most restarts.")


class WorkloadResourcesArgs(NamespacedArgs):
    workload: str = name_field("Name of the Deployment, StatefulSet or DaemonSet.")


def _quantities(values: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in sorted((values or {}).items())}


def container_resources(template_spec: Any) -> list[ContainerResources]:
    found = []
    for container in getattr(template_spec, "containers", None) or []:
        resources = container.resources
        found.append(
            ContainerResources(
                name=container.name,
                image=container.image or "",
                requests=_quantities(resources.requests if resources else None),
                limits=_quantities(resources.limits if resources else None),
            )
        )
    return found


def oom_killed(container: ContainerInfo) -> bool:
    """The container is, or last ended, OOM-killed."""
    return OOM_REASON in (container.last_termination_reason, container.reason)


def last_oom(pods: list[PodInfo], containers: list[ContainerResources]) -> OomKill | None:
    """The most recent container termination reported as OOMKilled, with the memory limit
    the template gives that container."""
    limits = {c.name: c.limits.get("memory") for c in containers}
    kills = [
        OomKill(
            pod=pod.name,
            container=c.name,
            finished_at=c.last_finished_at,
            exit_code=c.last_exit_code,
            memory_limit=limits.get(c.name),
        )
        for pod in pods
        for c in pod.containers
        if oom_killed(c)
    ]
    if not kills:
        return None
    return max(kills, key=lambda k: k.finished_at.timestamp() if k.finished_at else 0.0)


def describe_resources(container: ContainerResources) -> str:
    def side(values: dict[str, str]) -> str:
        cpu, memory = values.get("cpu", "none"), values.get("memory", "none")
        return f"cpu {cpu}, memory {memory}"

    return (
        f"- container {container.name} ({container.image}): requests {side(container.requests)}"
        f"; limits {side(container.limits)}"
    )


def describe_oom(kill: OomKill | None, killed: int) -> str:
    if kill is None:
        return (
            "No OOM kill recorded: no container's current or last termination is OOMKilled "
            "(the API keeps only each container's last termination)."
        )
    when = iso(kill.finished_at) if kill.finished_at else "an unknown time"
    limit = f" against a memory limit of {kill.memory_limit}" if kill.memory_limit else ""
    return (
        f"Last OOM kill: pod {kill.pod} container {kill.container} at {when} "
        f"(exit {kill.exit_code}){limit}; {killed} containers last ended OOMKilled."
    )


class WorkloadResourcesTool(KubeTool[WorkloadResourcesArgs]):
    name = "workload_resources"
    description = (
        "Show a workload's CPU/memory requests and limits per container (from its pod "
        "template), its pods' restarts, and the last OOM kill (pod, container, time, exit "
        "code) next to the memory limit it hit. Use it on OOM kills and throttling."
    )
    args_model = WorkloadResourcesArgs

    def caps(self) -> str:
        c = self.config
        return f"at most {c.max_pods} pods described; about {c.output.max_tokens} tokens"

    def execute(self, args: WorkloadResourcesArgs) -> ToolResult:
        namespace = self.namespace(args.namespace)
        workload = find_workload(self.apps, namespace, args.workload, self.timeout)
        spec = workload.spec
        kind = str(getattr(workload, "kind", None) or type(workload).__name__.removeprefix("V1"))
        template = spec.template.spec if spec is not None and spec.template else None
        containers = container_resources(template)
        selector = selector_string(spec.selector if spec is not None else None)
        listed = kube_call(
            f"pods of {namespace}/{args.workload}",
            lambda: self.core.list_namespaced_pod(
                namespace, label_selector=selector, _request_timeout=self.timeout
            ),
        )
        now = self.clock()
        pods = sorted(
            (pod_info(p, now) for p in listed.items), key=lambda p: (p.healthy, -p.restarts)
        )
        kill = last_oom(pods, containers)
        killed = sum(1 for p in pods for c in p.containers if oom_killed(c))
        data = WorkloadResourcesData(
            namespace=namespace,
            name=args.workload,
            kind=kind,
            replicas=getattr(spec, "replicas", None),
            containers=containers,
            last_oom=kill,
            oom_killed_containers=killed,
            pods=pods[: self.config.max_pods],
        )
        lines = [describe_resources(c) for c in containers]
        lines.append(describe_oom(kill, killed))
        for pod in data.pods:
            restarts = ", ".join(
                f"{c.name} {c.restarts} restarts"
                + (f", last ended {c.last_termination_reason}" if c.last_termination_reason else "")
                for c in pod.containers
            )
            lines.append(f"- pod {pod.name} {pod.phase} {pod.ready} ready: {restarts}")
        replicas = f", {data.replicas} replicas wanted" if data.replicas is not None else ""
        content, left_out = fit_items(
            f"{kind} {namespace}/{args.workload}{replicas}, {len(pods)} pods:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more pods left out.",
        )
        call = f"GET /api/v1/namespaces/{namespace}/pods"
        evidence = [
            self.evidence(
                call,
                {"labelSelector": selector},
                describe_oom(kill, killed),
                dashboard_object("pod", namespace, None),
            )
        ]
        return ToolResult.success(
            self.name, content, data=data, evidence=evidence, truncated=left_out > 0
        )
