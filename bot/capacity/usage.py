"""Requested versus used, per deployment and container, read from Prometheus.

Usage comes from cAdvisor (`container_cpu_usage_seconds_total` as a rate,
`container_memory_working_set_bytes`), requests and limits from kube-state-metrics. Pods are
grouped to their Deployment the way real kube-state-metrics allows: `kube_pod_owner` (pod →
ReplicaSet) joined with `kube_replicaset_owner` (ReplicaSet → Deployment). The join runs
inside the subquery, so pods replaced by rollouts during the window still count.

p95 and max are taken per pod over the window (a subquery at `STEP`), then the largest over
the deployment's pods: requests are per pod, so the busiest pod is the one to fit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from bot.capacity.models import ContainerUsage, Skip
from bot.settings import CapacitySettings
from tools.metrics.api import PrometheusApi

STEP = "5m"
RATE_WINDOW = "10m"  # at least two samples with scrape intervals up to 5 minutes
HOURS_PER_DAY = 24
Key = tuple[str, str, str]  # namespace, deployment, container


def _matchers(namespace: str | None, extra: str = "") -> str:
    parts = [extra] if extra else []
    if namespace is not None:
        escaped = namespace.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'namespace="{escaped}"')
    return ", ".join(parts)


def pod_deployment(namespace: str | None) -> str:
    """One series per pod, value 1, with a `deployment` label (from the owner chain)."""
    pods = _matchers(namespace, 'owner_kind="ReplicaSet"')
    sets = _matchers(namespace, 'owner_kind="Deployment"')
    return (
        "max by (namespace, pod, deployment) ("
        f'label_replace(kube_pod_owner{{{pods}}}, "replicaset", "$1", "owner_name", "(.+)")'
        " * on (namespace, replicaset) group_left (deployment) "
        "max by (namespace, replicaset, deployment) ("
        f'label_replace(kube_replicaset_owner{{{sets}}}, "deployment", "$1", "owner_name", "(.+)")'
        "))"
    )


def cpu_per_pod(namespace: str | None) -> str:
    selector = _matchers(namespace, 'container!="", container!="POD"')
    return (
        "sum by (namespace, pod, container) ("
        f"rate(container_cpu_usage_seconds_total{{{selector}}}[{RATE_WINDOW}]))"
        f" * on (namespace, pod) group_left (deployment) {pod_deployment(namespace)}"
    )


def memory_per_pod(namespace: str | None) -> str:
    selector = _matchers(namespace, 'container!="", container!="POD"')
    return (
        f"max by (namespace, pod, container) (container_memory_working_set_bytes{{{selector}}})"
        f" * on (namespace, pod) group_left (deployment) {pod_deployment(namespace)}"
    )


def usage_queries(namespace: str | None, window_days: int) -> dict[str, str]:
    """The PromQL of each quantity, all keyed by (namespace, deployment, container)."""
    window = f"{window_days}d"
    by = "max by (namespace, deployment, container)"
    cpu, memory = cpu_per_pod(namespace), memory_per_pod(namespace)

    def spec(metric: str, resource: str) -> str:
        selector = _matchers(namespace, f'resource="{resource}"')
        return (
            f"{by} ({metric}{{{selector}}}"
            f" * on (namespace, pod) group_left (deployment) {pod_deployment(namespace)})"
        )

    return {
        "cpu_p95": f"{by} (quantile_over_time(0.95, ({cpu})[{window}:{STEP}]))",
        "cpu_max": f"{by} (max_over_time(({cpu})[{window}:{STEP}]))",
        "memory_p95": f"{by} (quantile_over_time(0.95, ({memory})[{window}:{STEP}]))",
        "memory_max": f"{by} (max_over_time(({memory})[{window}:{STEP}]))",
        # Hours in the window in which any pod of the deployment reported memory.
        "hours": f"count_over_time(({by} ({memory}))[{window}:1h])",
        "cpu_request": spec("kube_pod_container_resource_requests", "cpu"),
        "cpu_limit": spec("kube_pod_container_resource_limits", "cpu"),
        "memory_request": spec("kube_pod_container_resource_requests", "memory"),
        "memory_limit": spec("kube_pod_container_resource_limits", "memory"),
    }


def replicas_query(namespace: str | None) -> str:
    return (
        f"max by (namespace, deployment) (kube_deployment_spec_replicas{{{_matchers(namespace)}}})"
    )


def _by_key(rows: Iterable[dict[str, object]]) -> dict[Key, float]:
    found: dict[Key, float] = {}
    for row in rows:
        metric = row.get("metric")
        value = row.get("value")
        if not isinstance(metric, dict) or not isinstance(value, list):
            continue
        key = (
            str(metric.get("namespace", "")),
            str(metric.get("deployment", "")),
            str(metric.get("container", "")),
        )
        found[key] = float(value[1])
    return found


def container_usage(
    prom: PrometheusApi,
    settings: CapacitySettings,
    now: datetime,
    namespace: str | None = None,
) -> tuple[list[ContainerUsage], list[Skip]]:
    """Usage of every deployment container with enough history, and why others were skipped."""
    window = settings.rightsizing_window_days
    values: dict[str, dict[Key, float]] = defaultdict(dict)
    for name, expr in usage_queries(namespace, window).items():
        values[name] = _by_key(prom.query(expr, now).get("result") or [])
    replicas = {
        (namespace_, deployment): int(value)
        for (namespace_, deployment, _), value in _by_key(
            prom.query(replicas_query(namespace), now).get("result") or []
        ).items()
    }
    found: list[ContainerUsage] = []
    skipped: list[Skip] = []
    for key in sorted(values["memory_max"]):
        ns, deployment, container = key
        days = min(float(window), values["hours"].get(key, 0.0) / HOURS_PER_DAY)
        label = f"{ns}/{deployment}/{container}"
        if days < settings.min_history_days:
            skipped.append(
                Skip(
                    f"{label}: only {days:.1f} days of usage history "
                    f"(rightsizing needs {settings.min_history_days:g})",
                    (ns, deployment),
                )
            )
            continue
        if key not in values["cpu_p95"]:
            skipped.append(
                Skip(
                    f"{label}: no CPU usage series (container_cpu_usage_seconds_total)",
                    (ns, deployment),
                )
            )
            continue
        found.append(
            ContainerUsage(
                namespace=ns,
                workload=deployment,
                container=container,
                replicas=replicas.get((ns, deployment), 1),
                cpu_request=values["cpu_request"].get(key),
                cpu_limit=values["cpu_limit"].get(key),
                memory_request=values["memory_request"].get(key),
                memory_limit=values["memory_limit"].get(key),
                cpu_p95=values["cpu_p95"][key],
                cpu_max=values["cpu_max"].get(key, values["cpu_p95"][key]),
                memory_p95=values["memory_p95"][key],
                memory_max=values["memory_max"][key],
                history_days=days,
            )
        )
    return found, skipped
