"""The metrics the pattern engine reads, as PromQL over the names real exporters publish:
the application's RED metrics, cAdvisor, kube-state-metrics, the kubelet and the blackbox
exporter. `{ns}` and `{svc}` are filled in from the scope; a signal with no data is skipped."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Signal:
    """One metric the engine reads. `min_shift`: the smallest change of its level, in its
    own unit, that is worth reporting as a change (a throttled share going from 0 to 0.01 %
    is a statistically clear shift and says nothing about an outage). `reported`: its
    change points are listed among the finding's metric changes (per-client breakdowns
    that rules read are not)."""

    name: str
    query: str
    needs_service: bool = True
    instant: bool = False
    min_shift: float = 0.0
    reported: bool = True  # listed among the finding's metric changes (per-client views not)

    def render(self, namespace: str, service: str | None) -> str:
        return self.query.replace("{ns}", namespace).replace("{svc}", service or "")


POD = 'namespace="{ns}",pod=~"{svc}-.*"'

SIGNALS: tuple[Signal, ...] = (
    Signal(
        "error_ratio",
        'sum(rate(http_requests_total{namespace="{ns}",service="{svc}",code=~"5.."}[5m])) '
        '/ sum(rate(http_requests_total{namespace="{ns}",service="{svc}"}[5m]))',
        min_shift=0.01,  # one request in a hundred
    ),
    Signal(
        "latency_p95",
        "histogram_quantile(0.95, sum by (le) "
        '(rate(http_request_duration_seconds_bucket{namespace="{ns}",service="{svc}"}[5m])))',
        min_shift=0.02,  # 20 ms, below what a user notices
    ),
    Signal(
        "request_rate",
        'sum(rate(http_requests_total{namespace="{ns}",service="{svc}"}[5m]))',
    ),
    Signal(
        "cpu_throttling",
        f"sum(rate(container_cpu_cfs_throttled_periods_total{{{POD}}}[5m])) "
        f"/ sum(rate(container_cpu_cfs_periods_total{{{POD}}}[5m]))",
        min_shift=0.05,  # of the CFS periods
    ),
    Signal(
        "memory_usage_ratio",
        f'max(container_memory_working_set_bytes{{{POD},container!=""}}) '
        f'/ max(kube_pod_container_resource_limits{{{POD},resource="memory"}})',
        min_shift=0.05,  # of the limit
    ),
    Signal(
        "memory_limit_bytes",
        f'max(kube_pod_container_resource_limits{{{POD},resource="memory"}})',
        instant=True,
    ),
    Signal(
        "resource_requests",
        f'max by (resource) (kube_pod_container_resource_requests{{{POD},container!=""}})',
        instant=True,
    ),
    Signal(
        "resource_limits",
        f'max by (resource) (kube_pod_container_resource_limits{{{POD},container!=""}})',
        instant=True,
    ),
    Signal(
        "volume_free_ratio",
        'kubelet_volume_stats_available_bytes{namespace="{ns}"} '
        '/ kubelet_volume_stats_capacity_bytes{namespace="{ns}"}',
        needs_service=False,
        min_shift=0.02,  # of the volume
    ),
    Signal(
        "volume_capacity_bytes",
        'kubelet_volume_stats_capacity_bytes{namespace="{ns}"}',
        needs_service=False,
        instant=True,
    ),
    Signal(
        "cert_expiry_days",
        "(probe_ssl_earliest_cert_expiry - time()) / 86400 "
        "or (x509_cert_not_after - time()) / 86400 "
        "or (certmanager_certificate_expiration_timestamp_seconds - time()) / 86400",
        needs_service=False,
        instant=True,
    ),
    Signal(
        "autoscalers",
        'kube_horizontalpodautoscaler_info{namespace="{ns}"}',
        needs_service=False,
        instant=True,
    ),
    Signal(
        "autoscaler_at_max",
        'kube_horizontalpodautoscaler_status_current_replicas{namespace="{ns}"} '
        ">= on (namespace, horizontalpodautoscaler) "
        'kube_horizontalpodautoscaler_spec_max_replicas{namespace="{ns}"}',
        needs_service=False,
        instant=True,
    ),
    Signal(
        "autoscaler_limited",
        'kube_horizontalpodautoscaler_status_condition{namespace="{ns}",'
        'condition="ScalingLimited",status="true"} == 1',
        needs_service=False,
        instant=True,
    ),
    Signal(
        "node_cpu_pressure",  # PSI: share of time some runnable task waited for a CPU
        "rate(node_pressure_cpu_waiting_seconds_total[5m])",
        needs_service=False,
        instant=True,
    ),
    Signal(
        "node_top_cpu",  # the biggest CPU users of every node, any namespace
        "topk by (node) (3, sum by (node, namespace, pod) "
        '(rate(container_cpu_usage_seconds_total{container!=""}[5m])))',
        needs_service=False,
        instant=True,
    ),
    Signal(
        "node_top_unlimited_cpu",  # the same, among pods without a CPU limit
        "topk by (node) (3, sum by (node, namespace, pod) "
        '(rate(container_cpu_usage_seconds_total{container!=""}[5m])) '
        'unless on (namespace, pod) kube_pod_container_resource_limits{resource="cpu"})',
        needs_service=False,
        instant=True,
    ),
    Signal(
        "request_rate_by_service",  # with the call graph: calls into a service per caller request
        'sum by (service) (rate(http_requests_total{namespace="{ns}"}[5m]))',
        needs_service=False,
        reported=False,
    ),
    Signal(
        "db_sessions_by_client",  # postgres_exporter's pg_stat_activity per user and application
        "sum by (namespace, service, datname, usename, application_name) "
        '(pg_stat_activity_count{state="active"})',
        needs_service=False,
        reported=False,
    ),
    Signal(
        "db_longest_tx_by_client",
        "max by (namespace, service, datname, usename, application_name) "
        '(pg_stat_activity_max_tx_duration{state="active"})',
        needs_service=False,
        reported=False,
    ),
)
