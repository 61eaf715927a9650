"""Node conditions, schedulability and taints."""

from __future__ import annotations

from typing import Any

from kubernetes import client
from pydantic import BaseModel, Field

from tools.base import ToolArgs, ToolResult
from tools.budget import fit_items
from tools.k8s.base import DNS_SUBDOMAIN, KubeTool, dashboard_object
from tools.k8s.connection import kube_call


class ConditionInfo(BaseModel):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None


class NodeInfo(BaseModel):
    name: str
    ready: str = Field(description="Status of the Ready condition: True, False or Unknown.")
    problems: list[ConditionInfo] = Field(
        description="Ready not True, or a pressure/unavailable condition not False."
    )
    unschedulable: bool
    taints: list[str]
    kubelet_version: str | None
    allocatable: dict[str, str]


class NodesData(BaseModel):
    """Structured result of k8s_nodes."""

    total: int
    nodes: list[NodeInfo] = Field(description="Nodes with problems first.")


class NodesArgs(ToolArgs):
    name: str | None = Field(
        None, max_length=253, pattern=DNS_SUBDOMAIN, description="One node; omit for all."
    )
    only_problems: bool = Field(False, description="Only nodes that are not healthy.")


def node_info(node: client.V1Node) -> NodeInfo:
    status, spec = node.status, node.spec
    conditions = [
        ConditionInfo(type=c.type, status=c.status, reason=c.reason, message=c.message)
        for c in ((status.conditions if status else None) or [])
    ]
    ready = next((c.status for c in conditions if c.type == "Ready"), "Unknown")
    problems = sorted(
        (
            c
            for c in conditions
            if (c.type == "Ready" and c.status != "True")
            or (c.type != "Ready" and c.status != "False")
        ),
        key=lambda c: c.type != "Ready",
    )
    taints = [f"{t.key}:{t.effect}" for t in ((spec.taints if spec else None) or [])]
    info = status.node_info if status else None
    return NodeInfo(
        name=node.metadata.name if node.metadata else "",
        ready=ready,
        problems=problems,
        unschedulable=bool(spec and spec.unschedulable),
        taints=taints,
        kubelet_version=info.kubelet_version if info else None,
        allocatable=dict((status.allocatable if status else None) or {}),
    )


def describe_node(node: NodeInfo) -> str:
    line = f"- {node.name}: Ready={node.ready}"
    for problem in node.problems:
        why = problem.reason or ""
        if problem.type == "Ready" and problem.message:
            why = f"{why}: {problem.message}" if why else problem.message
        label = "" if problem.type == "Ready" else f"; {problem.type}={problem.status}"
        line += f"{label} ({why})" if why else label
    if node.unschedulable:
        line += "; cordoned (unschedulable)"
    if node.taints:
        line += f"; taints {', '.join(node.taints)}"
    sizes = [f"{k} {v}" for k, v in sorted(node.allocatable.items()) if k in ("cpu", "memory")]
    return line + (f"; allocatable {', '.join(sizes)}" if sizes else "")


class NodesTool(KubeTool[NodesArgs]):
    name = "k8s_nodes"
    description = (
        "Show node health: the Ready condition, memory/disk/PID pressure, cordons and taints "
        "(e.g. node.kubernetes.io/unreachable). Nodes with problems come first."
    )
    args_model = NodesArgs

    def caps(self) -> str:
        c = self.config
        return f"about {c.output.max_tokens} tokens of output, the rest counted"

    def execute(self, args: NodesArgs) -> ToolResult:
        params: dict[str, Any] = {}
        if args.name:
            name = args.name
            call = f"GET /api/v1/nodes/{name}"
            nodes = [
                kube_call(
                    f"node {name}", lambda: self.core.read_node(name, _request_timeout=self.timeout)
                )
            ]
        else:
            call = "GET /api/v1/nodes"
            nodes = kube_call(
                "nodes", lambda: self.core.list_node(_request_timeout=self.timeout)
            ).items
        infos = sorted((node_info(n) for n in nodes), key=lambda n: (not n.problems, n.name))
        total = len(infos)
        if args.only_problems:
            infos = [n for n in infos if n.problems or n.unschedulable]
        data = NodesData(total=total, nodes=infos)
        link = dashboard_object("node", None, args.name) if args.name else None
        if not infos:
            content = f"No data: all {total} nodes are Ready without pressure."
            evidence = self.evidence(call, params, "no data", link)
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        lines = [describe_node(n) for n in infos]
        with_problems = sum(1 for n in infos if n.problems)
        content, left_out = fit_items(
            f"{len(infos)} of {total} nodes shown, {with_problems} with problems:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more nodes left out; use only_problems.",
        )
        evidence = self.evidence(call, params, lines[0], link)
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )
