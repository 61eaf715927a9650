"""Gather what the rules look at, through the same tools the agent uses.

Two rounds, each run concurrently: first the wide view (every pod of the namespace, warning
events, nodes, the top errors of every service, the traces of every service an alert names);
then, once the likely origin is ranked first (bot.investigation.patterns.focus), its metrics,
and the deployment history of every service in the blast radius (the change timeline).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.investigation.agent.request import InvestigationRequest
from bot.investigation.change_timeline import (
    ChangeEvent,
    ConfigChange,
    change_events,
    config_changes,
)
from bot.investigation.localise import Localisation, change_shifts, localise_shifts
from bot.investigation.patterns.config_reads import named_values
from bot.investigation.patterns.focus import (
    ALERTED,
    FIRST_ALERT,
    Suspect,
    blast_radius,
    log_blame,
    rank_suspects,
)
from bot.investigation.patterns.load_shifts import (
    DatabaseClient,
    busiest_client,
    database_clients,
)
from bot.investigation.patterns.log_baseline import SteadyError, covered, deviating
from bot.investigation.patterns.roles import workload_for_role
from bot.investigation.patterns.signals import SIGNALS
from bot.investigation.patterns.trace_culprits import slow_culprit
from bot.investigation.service_graph import (
    ServiceGraph,
    error_origins,
    graph_from_traces,
    latency_origins,
)
from bot.investigation.window_reader import Windows, read_windows
from tools.base import Evidence, ToolFailure, ToolResult
from tools.k8s.deployments import DeploymentData
from tools.k8s.events import EventsData
from tools.k8s.nodes import NodesData
from tools.k8s.pods import PodsData
from tools.k8s.service_clients import ServiceClient, ServiceClientsData
from tools.k8s.workload_config import WorkloadConfigData
from tools.k8s.workload_resources import WorkloadResourcesData, oom_killed
from tools.logs.aggregation_tools import TopErrorsData
from tools.metrics.query_tools import InstantQueryData, RangeQueryData
from tools.toolbox import Toolbox
from tools.traces.tools import TraceSearchData

CAUSE_LABELS = ("deployment",)  # labels naming a workload (the likely cause)
SYMPTOM_LABELS = ("service", "app", "container", "job")  # labels naming where it shows
LOOKBACK = "3h"
LOG_LOOKBACK = "1h"
LOG_RECENT = timedelta(hours=1)  # LOG_LOOKBACK as a span
LOG_BASELINE = timedelta(hours=6)  # the error lines' baseline, before the recent window
ONSET_MARGIN = timedelta(minutes=30)  # trouble starts this long before its first alert fires
TRACE_LOOKBACK = "1h"
_POD_OWNER = re.compile(r"^ReplicaSet/(?P<name>.+)-[a-z0-9]{5,10}$")
_POD_NAME = re.compile(r"^(?P<name>[a-z0-9-]+)-[a-z0-9]{6,10}-[a-z0-9]{5}$")
_WORD = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]")
_SVC_HOST = re.compile(r"^([a-z0-9][a-z0-9-]*)\.[a-z0-9-]+\.svc(?:\.|$)")
MAX_ALERT_SERVICES = 4
MAX_BLAST_RADIUS = 8
MAX_KILLED_ELSEWHERE = 2  # OOM-killed workloads besides the focus whose resources are read
CLUSTER_DNS = ("kube-system", ("coredns", "kube-dns"))  # the conventional cluster DNS


@dataclass
class Observations:
    namespace: str
    service: str | None
    pods: PodsData | None = None
    events: EventsData | None = None
    deployment: DeploymentData | None = None
    nodes: NodesData | None = None
    top_errors: TopErrorsData | None = None  # only the kinds of error that rose (log_baseline)
    steady_errors: list[SteadyError] = field(default_factory=list)  # the others, not blamed
    baseline_errors: TopErrorsData | None = None
    traces: TraceSearchData | None = None
    dependency: DeploymentData | None = None
    ranges: dict[str, RangeQueryData] = field(default_factory=dict)
    instants: dict[str, InstantQueryData] = field(default_factory=dict)
    alerted: list[str] = field(default_factory=list)  # services the alerts name, in order
    # what opsbot's own forecast said of each volume it alerted on (claim -> summary), so a
    # finding repeats the estimate in the incident's title instead of computing another
    forecasts: dict[str, str] = field(default_factory=dict)
    graph: ServiceGraph = field(default_factory=ServiceGraph)
    suspects: list[Suspect] = field(default_factory=list)
    deployments: dict[str, DeploymentData] = field(default_factory=dict)  # blast radius
    timeline: list[ChangeEvent] = field(default_factory=list)
    # the writes of the ConfigMaps and Secrets the focus workload reads, newest first, with
    # the keys holding a host or URL its error lines name
    config_changes: list[ConfigChange] = field(default_factory=list)
    cluster_dns: DeploymentData | None = None
    known: set[str] = field(default_factory=set)  # every workload seen, before any narrowing
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)
    failed: list[ToolResult] = field(default_factory=list)
    # the alerting entry service's traces, every log line and pod resource series before
    # and since the first alert's onset, and whose own behaviour changed most between them
    windows: Windows | None = None
    localised: Localisation | None = None
    # the database client whose own activity grew far beyond the others' (load_shifts), and
    # the workload (any namespace) whose connection settings name it
    db_hog: DatabaseClient | None = None
    db_hog_workload: ServiceClient | None = None
    # the pod template resources of OOM-killed workloads other than the focus, by name: the
    # limit to raise is theirs, and the focus's kube-state-metrics series do not say it
    workload_resources: dict[str, WorkloadResourcesData] = field(default_factory=dict)

    def cite(self, *sources: str) -> list[Evidence]:
        return [e for source in sources for e in self.evidence.get(source, [])]


FORECAST_SOURCE = "opsbot-forecast"  # the `source` label of opsbot's forecast alerts


def forecast_summaries(request: InvestigationRequest) -> dict[str, str]:
    """The summary of each forecast alert of the incident, by the volume it is about."""
    return {
        alert.labels["persistentvolumeclaim"]: alert.annotations.get("summary", "")
        for alert in request.alerts
        if alert.labels.get("source") == FORECAST_SOURCE
        and alert.labels.get("persistentvolumeclaim")
        and alert.annotations.get("summary")
    }


def baseline_window(request: InvestigationRequest) -> tuple[datetime, datetime]:
    """The error lines' baseline window: LOG_BASELINE ending before the recent window and
    before the trouble began (ONSET_MARGIN before the first alert started)."""
    end = request.now - LOG_RECENT
    onsets = [alert.starts_at for alert in request.alerts]
    if onsets:
        end = min(end, min(onsets) - ONSET_MARGIN)
    return end - LOG_BASELINE, end


def matching_client(hog: DatabaseClient, clients: list[ServiceClient]) -> ServiceClient | None:
    """The workload a database client is: its application_name as the workload's
    configured application name or its name, else its user as the workload's only."""
    app, user = hog.application_name, hog.usename
    by_app = [c for c in clients if app and app in (c.application_name, c.name)]
    if by_app:
        return by_app[0]
    by_user = [c for c in clients if user and c.user == user]
    return by_user[0] if len(by_user) == 1 else None


def deployment_of_pod_owner(owner: str | None) -> str | None:
    found = _POD_OWNER.match(owner or "")
    return found.group("name") if found else None


def workload_of_pod_owner(owner: str | None) -> str | None:
    """The workload a pod belongs to: a Deployment's (through its ReplicaSet), a
    StatefulSet's or a DaemonSet's name."""
    kind, _, name = (owner or "").partition("/")
    if kind in {"StatefulSet", "DaemonSet"} and name:
        return name
    return deployment_of_pod_owner(owner)


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


def alert_services(request: InvestigationRequest) -> list[str]:
    """Every service the incident's alerts name (workload, service, app, pod, a
    `name.namespace.svc` host such as a certificate's subject), first alert first."""
    found: list[str] = []
    for alert in request.alerts:
        labels = alert.labels
        symptoms = tuple(n for n in SYMPTOM_LABELS if not (n == "job" and "node" in labels))
        names = [_label(labels, CAUSE_LABELS) or pod_workload(labels) or _label(labels, symptoms)]
        for value in labels.values():
            host = _SVC_HOST.match(str(value))
            names.append(host.group(1) if host else None)
        for name in names:
            if name and name not in found and len(found) < MAX_ALERT_SERVICES:
                found.append(name)
    if request.service and request.service not in found:
        found.insert(0, request.service)
    return found


def pod_workload(labels: Mapping[str, Any]) -> str | None:
    """`checkout` from a pod label `checkout-7d9f8b6c5-x2x9k` (a Deployment's pod name)."""
    found = _POD_NAME.match(str(labels.get("pod") or ""))
    return found.group("name") if found else None


def _label(labels: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    return next((str(labels[n]) for n in names if labels.get(n)), None)


def signal_calls(namespace: str, service: str | None) -> dict[str, tuple[str, dict[str, Any]]]:
    """The Prometheus reads of every signal (`signals.SIGNALS`) for `service` (those that
    need a service are left out without one)."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    for signal in SIGNALS:
        if signal.needs_service and not service:
            continue
        tool = "prometheus_query" if signal.instant else "prometheus_range_query"
        args: dict[str, Any] = {"query": signal.render(namespace, service)}
        if not signal.instant:
            args["lookback"] = LOOKBACK
        calls[f"metric:{signal.name}"] = (tool, args)
    return calls


def rescoped(
    first: dict[str, tuple[str, dict[str, Any]]], service: str
) -> dict[str, tuple[str, dict[str, Any]]]:
    """The first round's namespace-wide pod and log reads, on `service` alone. A question's
    service found from the first round ("the database": the workload running a database
    image) is read again on its own, so the answer cites its pods and lines, not the
    namespace's."""
    scoped: dict[str, tuple[str, dict[str, Any]]] = {}
    for key, (tool, args) in first.items():
        if key in ("pods", "top_errors", "baseline_errors"):
            scoped[key] = (tool, {**args, "workload" if key == "pods" else "service": service})
    return scoped


class Observer:
    def __init__(self, toolbox: Toolbox) -> None:
        self.toolbox = toolbox

    def observe(self, request: InvestigationRequest, default_namespace: str) -> Observations:
        namespace, service = scope_of(request, default_namespace)
        obs = Observations(namespace=namespace, service=service)
        obs.alerted = alert_services(request)
        obs.forecasts = forecast_summaries(request)
        first: dict[str, tuple[str, dict[str, Any]]] = {
            "pods": ("k8s_pods", {"namespace": namespace}),
            "events": ("k8s_events", {"namespace": namespace, "warnings_only": True}),
            "nodes": ("k8s_nodes", {}),
            "top_errors": ("log_top_errors", {"lookback": LOG_LOOKBACK, "limit": 20}),
        }
        start, end = baseline_window(request)
        first["baseline_errors"] = (
            "log_top_errors",
            {"start": start.isoformat(), "end": end.isoformat(), "limit": 50},
        )
        if service and not request.alerts:  # a question about one service stays on it
            first["pods"][1]["workload"] = service
            first["top_errors"][1]["service"] = service
            first["baseline_errors"][1]["service"] = service
        for name in obs.alerted:
            first[f"traces:{name}"] = (
                "jaeger_find_traces",
                {"service": name, "lookback": TRACE_LOOKBACK, "limit": 20},
            )
        self._run(obs, first)
        if obs.top_errors is not None:
            obs.top_errors, obs.steady_errors = self._weighed(obs, start, end)
        if request.alerts:
            self._focus(obs, single=len(request.alerts) == 1)
        second: dict[str, tuple[str, dict[str, Any]]] = {}
        if obs.service is None:
            obs.service = self._guess_service(obs, request.question)
            if obs.service and not request.alerts:
                second |= rescoped(first, obs.service)
        second |= signal_calls(namespace, obs.service)
        second |= self._history_calls(obs, request)
        self._run(obs, second)
        if "top_errors" in second and obs.top_errors is not None:
            obs.top_errors, obs.steady_errors = self._weighed(obs, start, end)
        self._database_clients(obs)
        self._killed_elsewhere(obs)
        if obs.deployment is not None:
            obs.deployments.setdefault(obs.deployment.name, obs.deployment)
        obs.timeline = change_events(list(obs.deployments.values()))
        if request.alerts:
            self._config_reads(obs)
        entry = obs.alerted[0] if obs.alerted else obs.service
        self._compare_windows(obs, entry, request)
        culprit = slow_culprit(obs.traces.traces if obs.traces else [], entry)
        if culprit is not None:
            if culprit.service in obs.deployments:
                obs.dependency = obs.deployments[culprit.service]
            else:
                args = {"namespace": namespace, "name": culprit.service}
                self._run(obs, {"dependency": ("k8s_deployment", args)})
        return obs

    @staticmethod
    def _weighed(
        obs: Observations, start: datetime, end: datetime
    ) -> tuple[TopErrorsData, list[SteadyError]]:
        """The recent error lines that deviate from the baseline, and the steady ones."""
        assert obs.top_errors is not None
        return deviating(
            obs.top_errors,
            LOG_RECENT,
            obs.baseline_errors,
            covered(obs.baseline_errors, end, LOG_BASELINE) if obs.baseline_errors else end - start,
        )

    def _database_clients(self, obs: Observations) -> None:
        """When one client of a database works far more than before and than the others,
        find the workload it is (any namespace: batch and ETL workloads are on no request
        path) through the Service's clients, and read that workload's rollouts."""
        hog = busiest_client(
            database_clients(
                obs.ranges.get("db_sessions_by_client"), obs.ranges.get("db_longest_tx_by_client")
            )
        )
        if hog is None or not hog.database_service:
            return
        obs.db_hog = hog
        args = {
            "namespace": hog.database_namespace or obs.namespace,
            "service": hog.database_service,
        }
        result = (
            self.toolbox.run("k8s_service_clients", args)
            if "k8s_service_clients" in self.toolbox
            else None
        )
        if result is None or result.is_error or not isinstance(result.data, ServiceClientsData):
            obs.unavailable.append(f"the workloads that connect to {hog.database_service}")
            return
        obs.evidence["service_clients"] = result.evidence
        workload = matching_client(hog, result.data.clients)
        if workload is None:
            return
        obs.db_hog_workload = workload
        found = self.toolbox.run(
            "k8s_deployment", {"namespace": workload.namespace, "name": workload.name}
        )
        if isinstance(found.data, DeploymentData) and not found.is_error:
            obs.deployments[found.data.name] = found.data
            obs.evidence[f"client:{workload.name}"] = found.evidence

    def _killed_elsewhere(self, obs: Observations) -> None:
        """The requests and limits of each workload in the blast radius whose containers are
        OOM-killed while the focus is another service (a caller alerted first): the fix
        raises that workload's limit, read from its own pod template."""
        killed = {
            name
            for pod in (obs.pods.pods if obs.pods else [])
            if any(oom_killed(c) for c in pod.containers)
            and (name := deployment_of_pod_owner(pod.owner)) is not None
            and name != obs.service
        }
        calls = {
            f"resources:{name}": (
                "workload_resources",
                {"namespace": obs.namespace, "workload": name},
            )
            for name in sorted(killed)[:MAX_KILLED_ELSEWHERE]
        }
        self._run(obs, calls)

    def _config_reads(self, obs: Observations) -> None:
        """The ConfigMaps and Secrets the focus workload reads: when each was last written,
        and which of them holds a host or URL its own error lines name."""
        name = obs.service
        groups = obs.top_errors.groups if obs.top_errors else []
        named = named_values(g.message for g in groups if name and name in g.services)
        if not name or not named or "workload_config" not in self.toolbox:
            return
        args = {"namespace": obs.namespace, "workload": name, "find": named}
        result = self.toolbox.run("workload_config", args)
        if result.is_error or not isinstance(result.data, WorkloadConfigData):
            obs.unavailable.append(f"the configuration {name} reads")
            return
        obs.config_changes = config_changes(name, result.data)
        obs.evidence["workload_config"] = result.evidence

    def _compare_windows(
        self, obs: Observations, entry: str | None, request: InvestigationRequest
    ) -> None:
        """Read the windows around the first alert's onset and localise the change."""
        if not request.alerts or not entry:
            return
        onset = min(alert.starts_at for alert in request.alerts)
        try:
            obs.windows = read_windows(self.toolbox, entry, onset, request.now)
        except ToolFailure as failure:
            obs.unavailable.append(f"the windows around the alert ({failure.message[:200]})")
            return
        if obs.windows is None:
            return
        pack = obs.windows.pack
        periods, shifts = change_shifts(pack)
        obs.localised = localise_shifts(pack, periods, shifts)
        obs.evidence.update({f"windows:{k}": v for k, v in obs.windows.evidence.items()})

    def _history_calls(
        self, obs: Observations, request: InvestigationRequest
    ) -> dict[str, tuple[str, dict[str, Any]]]:
        """The focus's deployment and traces, the blast radius's deployments, cluster DNS."""
        namespace = obs.namespace
        second: dict[str, tuple[str, dict[str, Any]]] = {}
        if obs.service:
            second["deployment"] = ("k8s_deployment", {"namespace": namespace, "name": obs.service})
            if obs.traces is None:
                second["traces"] = (
                    "jaeger_find_traces",
                    {"service": obs.service, "lookback": TRACE_LOOKBACK, "limit": 20},
                )
        for name in self._blast_radius(obs):
            second[f"blast:{name}"] = ("k8s_deployment", {"namespace": namespace, "name": name})
        if request.alerts:
            dns_namespace, dns_names = CLUSTER_DNS
            for name in dns_names:
                second[f"dns:{name}"] = (
                    "k8s_deployment",
                    {"namespace": dns_namespace, "name": name},
                )
        return second

    def _focus(self, obs: Observations, *, single: bool) -> None:
        """Rank the services by evidence of being the origin; investigate the first. One
        alert about a service with evidence of its own keeps the focus on that service."""
        traces = obs.traces.traces if obs.traces else []
        obs.graph = graph_from_traces(traces)
        pods = obs.pods.pods if obs.pods else []
        owners = {deployment_of_pod_owner(p.owner) for p in pods} - {None}
        known = {str(o) for o in owners} | obs.graph.services | set(obs.alerted)
        obs.known = known
        unhealthy: Counter[str] = Counter(
            str(deployment_of_pod_owner(p.owner))
            for p in pods
            if not p.healthy and deployment_of_pod_owner(p.owner)
        )
        groups = obs.top_errors.groups if obs.top_errors else []
        errors, slow = error_origins(traces), latency_origins(traces)
        blame = Counter({k: v for k, v in log_blame(groups, known).items() if k in known})
        radius = blast_radius(obs.alerted, errors, slow, groups, known)
        obs.suspects = rank_suspects(
            alerted=obs.alerted,
            unhealthy=Counter({k: v for k, v in unhealthy.items() if k in radius}),
            error_origins=errors,
            latency_origins=slow,
            logs=Counter({k: v for k, v in blame.items() if k in radius}),
        )
        own = next((x for x in obs.suspects if x.service == obs.service), None)
        if single and obs.service and own is not None and own.score > ALERTED + FIRST_ALERT:
            radius = {obs.service}  # its own evidence explains the one alert
        elif obs.suspects and obs.suspects[0].score > 0:
            obs.service = obs.suspects[0].service
        if obs.pods is not None:
            kept = [p for p in pods if deployment_of_pod_owner(p.owner) in radius]
            obs.pods = obs.pods.model_copy(update={"pods": kept})
        if obs.top_errors is not None:
            kept_groups = [g for g in groups if radius & set(g.services)]
            obs.top_errors = obs.top_errors.model_copy(update={"groups": kept_groups})

    def _blast_radius(self, obs: Observations) -> list[str]:
        """The services whose changes could matter: suspects, alerted, and the graph's."""
        names = [s.service for s in obs.suspects] + obs.alerted + sorted(obs.graph.services)
        unique = [n for n in dict.fromkeys(names) if n and n != obs.service]
        return unique[:MAX_BLAST_RADIUS]

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
        pods = obs.pods.pods if obs.pods else []
        by_role = workload_for_role(words, pods, workload_of_pod_owner)
        if by_role:
            return by_role
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
        if key == "baseline_errors":  # a baseline that cannot be read leaves errors unweighed
            if isinstance(result.data, TopErrorsData) and not result.is_error:
                obs.baseline_errors = result.data
                obs.evidence[key] = result.evidence
            return
        if key.startswith(("blast:", "dns:", "traces:")):
            self._keep_wide(obs, key, result)
            return
        if key.startswith("resources:"):
            if isinstance(result.data, WorkloadResourcesData) and not result.is_error:
                obs.workload_resources[result.data.name] = result.data
                obs.evidence[key] = result.evidence
            return
        self._keep_one(obs, key, result)

    def _keep_wide(self, obs: Observations, key: str, result: ToolResult) -> None:
        """Blast-radius deployments, the cluster DNS and the traces of alerted services."""
        if key.startswith(("blast:", "dns:")):
            if isinstance(result.data, DeploymentData) and not result.is_error:
                if key.startswith("dns:"):
                    obs.cluster_dns = result.data
                    obs.evidence["cluster_dns"] = result.evidence
                else:
                    obs.deployments[result.data.name] = result.data
                    obs.evidence[key] = result.evidence
            return  # a service without a Deployment of that name is no failure
        if key.startswith("traces:"):
            if isinstance(result.data, TraceSearchData) and not result.is_error:
                merged = obs.traces.traces if obs.traces else []
                seen = {t.trace_id for t in merged}
                extra = [t for t in result.data.traces if t.trace_id not in seen]
                if obs.traces is None:
                    obs.traces = result.data
                else:
                    obs.traces = obs.traces.model_copy(update={"traces": merged + extra})
                obs.evidence.setdefault("traces", []).extend(result.evidence)
            elif key == f"traces:{obs.alerted[0]}":  # others may simply not be traced
                obs.failed.append(result)

    def _keep_one(self, obs: Observations, key: str, result: ToolResult) -> None:
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
