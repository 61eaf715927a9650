"""Forecast every node, volume and workload Prometheus knows (the edge: queries, then pure
fitting in bot.capacity.forecast and bot.capacity.exhaustion)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.capacity.exhaustion import find_exhaustion
from bot.capacity.forecast import ShortHistory, forecast_series
from bot.capacity.models import Exhaustion, Forecast, Metric, ResourceRef, Scope, Skip
from bot.settings import CapacitySettings
from tools.base import ToolFailure
from tools.metrics.api import PrometheusApi
from tools.metrics.frames import RangeFrames

MAX_POINTS = 10_000
ROOT_FS = 'fstype!~"tmpfs|overlay|squashfs|nsfs",mountpoint="/"'
# pod -> deployment through its ReplicaSet, as kube-state-metrics exposes the owners
POD_DEPLOYMENT = (
    'max by (namespace, pod, deployment) (label_replace(kube_pod_owner{owner_kind="ReplicaSet"}'
    ', "replicaset", "$1", "owner_name", "(.*)") * on (namespace, replicaset) group_left '
    "(deployment) max by (namespace, replicaset, deployment) (label_replace("
    'kube_replicaset_owner{owner_kind="Deployment"}, "deployment", "$1", "owner_name", "(.*)")))'
)


@dataclass(frozen=True)
class Source:
    """One kind of resource: the PromQL of its usage and of its capacity, grouped alike."""

    scope: Scope
    metric: Metric
    used: str
    capacity: str | None
    keys: tuple[str, ...]
    namespaced: bool
    ref: Callable[[Mapping[str, str]], ResourceRef]


@dataclass(frozen=True)
class ForecastScan:
    forecasts: tuple[Forecast, ...]
    exhaustions: tuple[Exhaustion, ...]  # soonest first
    skipped: tuple[Skip, ...]  # what could not be forecast, and why


def sources(namespace_matcher: str) -> tuple[Source, ...]:
    """`namespace_matcher` is `namespace=~"..."` (or empty) for namespaced series."""
    ns = namespace_matcher
    node_keys = ("node", "instance")

    def node_ref(metric: Metric, detail: str = "") -> Callable[[Mapping[str, str]], ResourceRef]:
        return lambda m: ResourceRef(
            Scope.NODE, metric, m.get("node") or m.get("instance", "?"), detail=detail
        )

    def workload(metric: Metric) -> Callable[[Mapping[str, str]], ResourceRef]:
        return lambda m: ResourceRef(
            Scope.WORKLOAD, metric, m["deployment"], m["namespace"], detail=m.get("container", "")
        )

    workload_keys = ("namespace", "deployment", "container")
    by_deployment = f"* on (namespace, pod) group_left (deployment) {POD_DEPLOYMENT}"
    containers = f'container!="",container!="POD"{"," + ns if ns else ""}'
    return (
        Source(
            Scope.NODE,
            Metric.DISK,
            f"max by (node, instance) (node_filesystem_size_bytes{{{ROOT_FS}}} - "
            f"node_filesystem_avail_bytes{{{ROOT_FS}}})",
            f"max by (node, instance) (node_filesystem_size_bytes{{{ROOT_FS}}})",
            node_keys,
            False,
            node_ref(Metric.DISK, "/"),
        ),
        Source(
            Scope.NODE,
            Metric.MEMORY,
            "max by (node, instance) (node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes)",
            "max by (node, instance) (node_memory_MemTotal_bytes)",
            node_keys,
            False,
            node_ref(Metric.MEMORY),
        ),
        Source(
            Scope.NODE,
            Metric.CPU,
            'sum by (node, instance) (rate(node_cpu_seconds_total{mode!="idle"}[{window}]))',
            'count by (node, instance) (node_cpu_seconds_total{mode="idle"})',
            node_keys,
            False,
            node_ref(Metric.CPU),
        ),
        Source(
            Scope.VOLUME,
            Metric.VOLUME,
            f"max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{{{ns}}})",
            "max by (namespace, persistentvolumeclaim) "
            f"(kubelet_volume_stats_capacity_bytes{{{ns}}})",
            ("namespace", "persistentvolumeclaim"),
            True,
            lambda m: ResourceRef(
                Scope.VOLUME, Metric.VOLUME, m["persistentvolumeclaim"], m["namespace"]
            ),
        ),
        Source(
            Scope.WORKLOAD,
            Metric.MEMORY,
            f"max by (namespace, deployment, container) (container_memory_working_set_bytes"
            f"{{{containers}}} {by_deployment})",
            "max by (namespace, deployment, container) (kube_pod_container_resource_limits"
            f'{{resource="memory"{"," + ns if ns else ""}}} {by_deployment})',
            workload_keys,
            True,
            workload(Metric.MEMORY),
        ),
        Source(
            Scope.WORKLOAD,
            Metric.CPU,
            f"max by (namespace, deployment, container) (rate(container_cpu_usage_seconds_total"
            f"{{{containers}}}[{{window}}]) {by_deployment})",
            "max by (namespace, deployment, container) (kube_pod_container_resource_limits"
            f'{{resource="cpu"{"," + ns if ns else ""}}} {by_deployment})',
            workload_keys,
            True,
            workload(Metric.CPU),
        ),
    )


def forecast_all(
    prom: PrometheusApi,
    frames: RangeFrames,
    settings: CapacitySettings,
    now: datetime,
    namespace: str | None = None,
) -> ForecastScan:
    """Forecast every resource (only `namespace`'s volumes and workloads when given): the
    usage histories come from `frames`, the capacity limits from one instant `prom` query."""
    allowed = [namespace] if namespace else _namespaces(settings)
    matcher = f'namespace=~"{"|".join(allowed)}"' if allowed else ""
    step = _step(settings)
    window = f"{max(int(step.total_seconds()), 300)}s"
    horizon = timedelta(days=max(_horizons(settings)))
    start = now - timedelta(days=settings.history_days)
    forecasts: list[Forecast] = []
    skipped: list[Skip] = []
    for source in sources(matcher):
        if namespace and not source.namespaced:
            continue
        what = f"{source.scope.value} {source.metric.value}"
        try:
            used = frames.history(source.used.replace("{window}", window), start, now, step)
            capacity = prom.query(source.capacity, now) if source.capacity else {"result": []}
        except ToolFailure as failure:
            skipped.append(Skip(f"{what}: Prometheus query failed: {failure}"))
            continue
        limits = {
            _key(row["metric"], source.keys): float(row["value"][1]) for row in capacity["result"]
        }
        for series in used:
            labels = series.labels
            ref = source.ref(labels)
            workload = (
                (ref.namespace, ref.name)
                if ref.scope is Scope.WORKLOAD and ref.namespace is not None
                else None
            )
            history = series.points()
            if history and now - history[-1][0] > step + timedelta(minutes=15):
                skipped.append(
                    Skip(
                        f"{ref.label}: no data since {history[-1][0]:%Y-%m-%d %H:%M} UTC", workload
                    )
                )
                continue
            days = (history[-1][0] - history[0][0]) / timedelta(days=1) if history else 0.0
            if days < settings.min_history_days:
                skipped.append(
                    Skip(
                        f"{ref.label}: {days:.1f} days of history, "
                        f"need {settings.min_history_days:g}",
                        workload,
                    )
                )
                continue
            try:
                forecast = forecast_series(
                    ref,
                    history,
                    capacity=limits.get(_key(labels, source.keys)),
                    horizon=horizon,
                    interval=settings.confidence,
                )
            except ShortHistory as short:
                skipped.append(Skip(str(short), workload))
                continue
            forecasts.append(forecast)
    found = [e for f in forecasts if (e := find_exhaustion(f, settings)) is not None]
    found.sort(key=lambda e: e.days_likely if e.days_likely is not None else math.inf)
    return ForecastScan(tuple(forecasts), tuple(found), tuple(skipped))


def _key(labels: Mapping[str, str], keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(labels.get(key, "") for key in keys)


def _step(settings: CapacitySettings) -> timedelta:
    step = timedelta(minutes=settings.step_minutes)
    shortest = timedelta(days=settings.history_days) / MAX_POINTS
    return max(step, shortest)


def _horizons(settings: CapacitySettings) -> list[float]:
    days = [float(part) for part in settings.horizons_days.split(",") if part.strip()]
    return [*days, settings.warn_within_days]


def _namespaces(settings: CapacitySettings) -> list[str]:
    return [part.strip() for part in settings.namespaces.split(",") if part.strip()]
