"""Gather what the rules look at, through the same tools the agent uses.

Two rounds, each run concurrently: first the wide view (pods, warning events, nodes, top
errors); then, once the service is known (from the scope, the alerts or the unhealthy pods),
its deployment history, traces and metrics.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.investigation.agent.request import InvestigationRequest
from bot.investigation.patterns.signals import SIGNALS
from bot.investigation.patterns.trace_culprits import slow_culprit
from tools.base import Evidence, ToolResult
from tools.k8s.deployments import DeploymentData
from tools.k8s.events import EventsData
from tools.k8s.nodes import NodesData
from tools.k8s.pods import PodsData
from tools.logs.aggregation_tools import TopErrorsData
from tools.metrics.query_tools import InstantQueryData, RangeQueryData
from tools.toolbox import Toolbox
from tools.traces.tools import TraceSearchData

CAUSE_LABELS = ("deployment",)  # labels naming a workload (the likely cause)
SYMPTOM_LABELS = ("service", "app", "container", "job")  # labels naming where it shows
LOOKBACK = "3h"
LOG_LOOKBACK = "1h"
TRACE_LOOKBACK = "1h"
_POD_OWNER = re.compile(r"^ReplicaSet/(?P<name>.+)-[a-z0-9]{5,10}$")
_POD_NAME = re.compile(r"^(?P<name>[a-z0-9-]+)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_WORD = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]")


@dataclass
class Observations:
    namespace: str
    service: str | None
    pods: PodsData | None = None
    events: EventsData | None = None
    deployment: DeploymentData | None = None
    nodes: NodesData | None = None
    top_errors: TopErrorsData | None = None
    traces: TraceSearchData | None = None
    dependency: DeploymentData | None = None
    ranges: dict[str, RangeQueryData] = field(default_factory=dict)
    instants: dict[str, InstantQueryData] = field(default_factory=dict)
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)
    failed: list[ToolResult] = field(default_factory=list)

    def cite(self, *sources: str) -> list[Evidence]:
        return [e for source in sources for e in self.evidence.get(source, [])]


def deployment_of_pod_owner(owner: str | None) -> str | None:
    found = _POD_OWNER.match(owner or "")
    return found.group("name") if found else None


def scope_of(request: InvestigationRequest, default_namespace: str) -> tuple[str, str | None]:
    namespace, service = request.namespace, request.service
    for alert in request.alerts:
        namespace = namespace or _label(alert.labels, ("namespace",))
    # an alert about a workload or its pods names the cause; a service-level one, the symptom
    for alert in request.alerts:
        service = service or _label(alert.labels, CAUSE_LABELS) or pod_workload(alert.labels)
    for alert in request.alerts:
        service = service or _label(alert.labels, SYMPTOM_LABELS)
    if namespace is None:
        words = _WORD.findall(request.question.lower())
        namespace = next((w for n, w in itertools.pairwise(words) if n == "in"), None)
    return namespace or default_namespace, service


def pod_workload(labels: Mapping[str, Any]) -> str | None:
    """`checkout` from a pod label `checkout-7d9f8b6c5-x2x9k` (a Deployment's pod name)."""
    found = _POD_NAME.match(str(labels.get("pod") or ""))
    return found.group("name") if found else None


def _label(labels: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    return next((str(labels[n]) for n in names if labels.get(n)), None)


class Observer:
    def __init__(self, toolbox: Toolbox) -> None:
        self.toolbox = toolbox

    def observe(self, request: InvestigationRequest, default_namespace: str) -> Observations:
        namespace, service = scope_of(request, default_namespace)
        obs = Observations(namespace=namespace, service=service)
        first: dict[str, tuple[str, dict[str, Any]]] = {
            "pods": ("k8s_pods", {"namespace": namespace}),
            "events": ("k8s_events", {"namespace": namespace, "warnings_only": True}),
            "nodes": ("k8s_nodes", {}),
            "top_errors": ("log_top_errors", {"lookback": LOG_LOOKBACK}),
        }
        if service:
            first["pods"][1]["workload"] = service
            first["top_errors"][1]["service"] = service
        self._run(obs, first)
        if obs.service is None:
            obs.service = self._guess_service(obs, request.question)
        second: dict[str, tuple[str, dict[str, Any]]] = {}
        for signal in SIGNALS:
            if signal.needs_service and not obs.service:
                continue
            tool = "prometheus_query" if signal.instant else "prometheus_range_query"
            args: dict[str, Any] = {"query": signal.render(namespace, obs.service)}
            if not signal.instant:
                args["lookback"] = LOOKBACK
            second[f"metric:{signal.name}"] = (tool, args)
        if obs.service:
            second["deployment"] = ("k8s_deployment", {"namespace": namespace, "name": obs.service})
            second["traces"] = (
                "jaeger_find_traces",
                {"service": obs.service, "lookback": TRACE_LOOKBACK, "limit": 20},
            )
        self._run(obs, second)
        culprit = slow_culprit(obs.traces.traces if obs.traces else [], obs.service)
        if culprit is not None and culprit.service != obs.service:
            args = {"namespace": namespace, "name": culprit.service}
            self._run(obs, {"dependency": ("k8s_deployment", args)})
        return obs

    def _guess_service(self, obs: Observations, question: str) -> str | None:
        """A deployment named in the question, else the one owning the most unhealthy pods."""
        owners = [deployment_of_pod_owner(p.owner) for p in (obs.pods.pods if obs.pods else [])]
        known = {o for o in owners if o}
        groups = obs.top_errors.groups if obs.top_errors else []
        services = {name for group in groups for name in group.services}
        words: list[str] = _WORD.findall(question.lower())
        for word in words:
            if word in known or word in services:
                return word
        unhealthy = [
            deployment_of_pod_owner(p.owner)
            for p in (obs.pods.pods if obs.pods else [])
            if not p.healthy
        ]
        named = [o for o in unhealthy if o]
        if named:
            return max(set(named), key=named.count)
        return next(iter(sorted(services)), None) if len(services) == 1 else None

    def _run(self, obs: Observations, calls: dict[str, tuple[str, dict[str, Any]]]) -> None:
        wanted = {k: v for k, v in calls.items() if v[0] in self.toolbox}
        obs.unavailable += sorted({tool for tool, _ in calls.values() if tool not in self.toolbox})
        if not wanted:
            return
        with ThreadPoolExecutor(max_workers=min(6, len(wanted))) as pool:
            results = dict(
                zip(
                    wanted,
                    pool.map(lambda item: self.toolbox.run(item[0], item[1]), wanted.values()),
                    strict=True,
                )
            )
        for key, result in results.items():
            self._keep(obs, key, result)

    def _keep(self, obs: Observations, key: str, result: ToolResult) -> None:
        if result.is_error:
            obs.failed.append(result)
            return
        obs.evidence[key] = result.evidence
        data = result.data
        if key.startswith("metric:"):
            name = key.removeprefix("metric:")
            if isinstance(data, RangeQueryData) and data.series:
                obs.ranges[name] = data
            elif isinstance(data, InstantQueryData) and (data.samples or data.scalar is not None):
                obs.instants[name] = data
            return
        typed = {
            "pods": PodsData,
            "events": EventsData,
            "deployment": DeploymentData,
            "nodes": NodesData,
            "top_errors": TopErrorsData,
            "traces": TraceSearchData,
            "dependency": DeploymentData,
        }
        if isinstance(data, typed[key]):
            setattr(obs, key, data)
