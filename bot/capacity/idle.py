"""Idle workloads, unattached volumes, deployments left at zero and failed jobs.

Kubernetes says what exists now (replicas, requests, which pods mount which claims, job
conditions); Prometheus says when activity stopped: the busiest pod's CPU (cAdvisor, grouped
to deployments through kube-state-metrics' owner chain), `http_requests_total` of the
service named like the deployment, `kube_deployment_spec_replicas` and kubelet volume stats.
The decisions are in `bot.capacity.idle_rules`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes import client
from kubernetes.utils import parse_quantity

from bot.capacity.idle_rules import (
    ClaimState,
    JobState,
    Points,
    ReplicaHistory,
    Requests,
    WorkloadActivity,
    failed_jobs,
    idle_workloads,
    scaled_to_zero,
    unattached_volumes,
)
from bot.capacity.models import IdleResource
from bot.capacity.usage import pod_deployment
from bot.settings import CapacitySettings
from tools.metrics.api import PrometheusApi

RATE_WINDOW = "10m"
Key = tuple[str, str]  # namespace, name


def _selector(namespace: str | None, extra: str = "") -> str:
    parts = [extra] if extra else []
    if namespace is not None:
        parts.append(f'namespace="{namespace}"')
    return ", ".join(parts)


def busiest_pod_cpu(namespace: str | None) -> str:
    containers = _selector(namespace, 'container!="", container!="POD"')
    return (
        "max by (namespace, deployment) (sum by (namespace, pod) ("
        f"rate(container_cpu_usage_seconds_total{{{containers}}}[{RATE_WINDOW}]))"
        f" * on (namespace, pod) group_left (deployment) {pod_deployment(namespace)})"
    )


def service_traffic(namespace: str | None) -> str:
    return (
        "sum by (namespace, service) ("
        f"rate(http_requests_total{{{_selector(namespace)}}}[{RATE_WINDOW}]))"
    )


def _quantity(value: Any) -> float:
    return float(parse_quantity(str(value))) if value is not None else 0.0  # type: ignore[no-untyped-call]


def template_requests(deployment: client.V1Deployment) -> Requests:
    cpu = memory = 0.0
    pod = deployment.spec.template.spec if deployment.spec and deployment.spec.template else None
    for container in (pod.containers if pod else None) or []:
        requests = (container.resources.requests if container.resources else None) or {}
        cpu += _quantity(requests.get("cpu"))
        memory += _quantity(requests.get("memory"))
    return Requests(cpu_cores=cpu, memory_bytes=memory)


def last_change(deployment: client.V1Deployment) -> datetime | None:
    stamps = [deployment.metadata.creation_timestamp if deployment.metadata else None]
    for condition in (deployment.status.conditions if deployment.status else None) or []:
        stamps += [condition.last_update_time, condition.last_transition_time]
    known = [s for s in stamps if s is not None]
    return max(known) if known else None


class _History:
    """Range queries over the analysed history, as {(namespace, name): points}."""

    def __init__(self, prom: PrometheusApi, settings: CapacitySettings, now: datetime) -> None:
        self.prom = prom
        self.start = now - timedelta(days=max(settings.history_days, settings.idle_days))
        self.end = now
        self.step = timedelta(minutes=settings.step_minutes)

    def series(self, expr: str, label: str) -> dict[Key, Points]:
        data = self.prom.query_range(expr, self.start, self.end, self.step)
        found: dict[Key, Points] = {}
        for row in data.get("result") or []:
            metric = row.get("metric") or {}
            key = (str(metric.get("namespace", "")), str(metric.get(label, "")))
            found[key] = [
                (datetime.fromtimestamp(float(at), UTC), float(value))
                for at, value in row.get("values") or []
            ]
        return found


def _namespaces(settings: CapacitySettings, namespace: str | None) -> list[str | None]:
    if namespace is not None:
        return [namespace]
    return list(settings.namespace_list) or [None]


def _listed(kube: Any, namespaced: str, everywhere: str, namespace: str | None) -> list[Any]:
    if namespace is None:
        return list(getattr(kube, everywhere)().items)
    return list(getattr(kube, namespaced)(namespace).items)


def find_idle(
    prom: PrometheusApi,
    kube: client.ApiClient,
    settings: CapacitySettings,
    now: datetime,
    namespace: str | None = None,
) -> list[IdleResource]:
    """Every idle resource in `namespace` (else the configured namespaces, else all)."""
    core, apps, batch = client.CoreV1Api(kube), client.AppsV1Api(kube), client.BatchV1Api(kube)
    history = _History(prom, settings, now)
    found: list[IdleResource] = []
    for scope in _namespaces(settings, namespace):
        deployments = _listed(
            apps, "list_namespaced_deployment", "list_deployment_for_all_namespaces", scope
        )
        pods = _listed(core, "list_namespaced_pod", "list_pod_for_all_namespaces", scope)
        claims = _listed(
            core,
            "list_namespaced_persistent_volume_claim",
            "list_persistent_volume_claim_for_all_namespaces",
            scope,
        )
        jobs = _listed(batch, "list_namespaced_job", "list_job_for_all_namespaces", scope)
        cpu = history.series(busiest_pod_cpu(scope), "deployment")
        traffic = history.series(service_traffic(scope), "service")
        replicas = history.series(
            f"max by (namespace, deployment) (kube_deployment_spec_replicas{{{_selector(scope)}}})",
            "deployment",
        )
        volumes = history.series(
            "max by (namespace, persistentvolumeclaim) "
            f"(kubelet_volume_stats_used_bytes{{{_selector(scope)}}})",
            "persistentvolumeclaim",
        )
        found += idle_workloads(_activities(deployments, cpu, traffic), settings, now)
        found += unattached_volumes(_claims(claims, pods, volumes), settings, now)
        found += scaled_to_zero(_replica_histories(deployments, replicas), settings, now)
        found += failed_jobs([_job(j) for j in jobs], settings, now)
    return sorted(found, key=lambda r: (-r.monthly_cost_usd, r.kind, r.namespace, r.name))


def _key(obj: Any) -> Key:
    return (str(obj.metadata.namespace), str(obj.metadata.name))


def _activities(
    deployments: Iterable[Any], cpu: dict[Key, Points], traffic: dict[Key, Points]
) -> list[WorkloadActivity]:
    return [
        WorkloadActivity(
            namespace=_key(d)[0],
            name=_key(d)[1],
            replicas=int(d.spec.replicas if d.spec.replicas is not None else 1),
            requests=template_requests(d),
            cpu=cpu.get(_key(d), []),
            traffic=traffic.get(_key(d)),
        )
        for d in deployments
    ]


def _claims(
    claims: Iterable[Any], pods: Iterable[Any], seen: dict[Key, Points]
) -> list[ClaimState]:
    mounts: dict[Key, list[str]] = {}
    for pod in pods:
        if pod.status is not None and pod.status.phase in ("Succeeded", "Failed"):
            continue
        for volume in pod.spec.volumes or []:
            source = volume.persistent_volume_claim
            if source is not None:
                key = (str(pod.metadata.namespace), str(source.claim_name))
                mounts.setdefault(key, []).append(str(pod.metadata.name))
    states = []
    for claim in claims:
        capacity = (claim.status.capacity if claim.status else None) or {}
        requests = (claim.spec.resources.requests if claim.spec.resources else None) or {}
        points = seen.get(_key(claim)) or []
        states.append(
            ClaimState(
                namespace=_key(claim)[0],
                name=_key(claim)[1],
                size_bytes=_quantity(capacity.get("storage") or requests.get("storage")),
                created=claim.metadata.creation_timestamp,
                mounted_by=tuple(sorted(mounts.get(_key(claim), []))),
                last_seen_mounted=max((at for at, _ in points), default=None),
            )
        )
    return states


def _replica_histories(
    deployments: Iterable[Any], history: dict[Key, Points]
) -> list[ReplicaHistory]:
    return [
        ReplicaHistory(
            namespace=_key(d)[0],
            name=_key(d)[1],
            replicas=int(d.spec.replicas if d.spec.replicas is not None else 1),
            requests=template_requests(d),
            history=history.get(_key(d), []),
            last_change=last_change(d),
        )
        for d in deployments
    ]


def _job(job: Any) -> JobState:
    conditions = (job.status.conditions if job.status else None) or []
    failed = next((c for c in conditions if c.type == "Failed" and c.status == "True"), None)
    return JobState(
        namespace=_key(job)[0],
        name=_key(job)[1],
        failed_at=failed.last_transition_time if failed else None,
        reason=failed.reason if failed else None,
    )
