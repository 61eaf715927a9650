"""The backfilled capacity history reads in a real Prometheus as the story says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox.procs.prometheus import PrometheusProcess
from tests.capacity.capacity_prometheus import CAPACITY_NOW, instant

GIB = 1024**3
DEPLOYMENT_OF_POD = (
    "label_replace(kube_pod_owner{owner_kind='ReplicaSet'}, 'replicaset', '$1', 'owner_name', "
    "'(.*)') * on (namespace, replicaset) group_left (owner_name) "
    "max by (namespace, replicaset, owner_name) (kube_replicaset_owner)"
)


@pytest.fixture(scope="module")
def prom(capacity_prometheus: PrometheusProcess) -> PrometheusProcess:
    return capacity_prometheus


def test_postgres_volume_grows_toward_its_capacity_and_prometheus_volume_is_flat(
    prom: PrometheusProcess,
) -> None:
    growth = instant(prom.url, "deriv(kubelet_volume_stats_used_bytes[7d]) * 86400 / 2^30")
    by_claim = {key.split("/")[-1]: value for key, value in growth.items()}
    assert by_claim["postgres-data"] == pytest.approx(1.2, abs=0.15)
    assert abs(by_claim["prometheus-data"]) < 0.2
    free = instant(
        prom.url, "kubelet_volume_stats_available_bytes{persistentvolumeclaim='postgres-data'}"
    )
    assert next(iter(free.values())) / GIB == pytest.approx(6.0, abs=0.6)


def test_postgres_volume_jumped_eight_days_ago(prom: PrometheusProcess) -> None:
    query = "kubelet_volume_stats_used_bytes{persistentvolumeclaim='postgres-data'}"
    before = instant(prom.url, query, CAPACITY_NOW - timedelta(days=8, hours=1))
    after = instant(prom.url, query, CAPACITY_NOW - timedelta(days=7, hours=23))
    jump = (next(iter(after.values())) - next(iter(before.values()))) / GIB
    assert 3.0 < jump < 5.0


def test_pods_group_by_deployment_through_their_replicaset(prom: PrometheusProcess) -> None:
    pods = instant(prom.url, f"count by (namespace, owner_name) ({DEPLOYMENT_OF_POD})")
    assert pods["prod/checkout"] == 3
    assert pods["prod/payments"] == 2
    assert "staging/old-api" not in pods  # scaled to zero: no pods left


def test_payments_uses_a_fraction_of_what_it_requests(prom: PrometheusProcess) -> None:
    cpu = instant(
        prom.url,
        "max(quantile_over_time(0.95, rate(container_cpu_usage_seconds_total"
        "{namespace='prod', container='app', pod=~'payments-.*'}[5m])[14d:5m]))",
    )
    request = instant(
        prom.url,
        "max(kube_pod_container_resource_requests{pod=~'payments-.*', resource='cpu'})",
    )
    memory = instant(prom.url, "max(container_memory_working_set_bytes{pod=~'payments-.*'}) / 2^20")
    assert 0.02 < next(iter(cpu.values())) < 0.06
    assert next(iter(request.values())) == 0.5
    assert 120 < next(iter(memory.values())) < 160


def test_legacy_report_went_idle_ten_days_ago_and_old_api_scaled_to_zero(
    prom: PrometheusProcess,
) -> None:
    traffic = "sum by (service) (increase(http_requests_total{service='legacy-report'}[9d]))"
    assert instant(prom.url, traffic) == {"legacy-report": 0.0}
    earlier = instant(prom.url, traffic, CAPACITY_NOW - timedelta(days=12))
    assert earlier["legacy-report"] > 1000
    replicas = "kube_deployment_spec_replicas{deployment='old-api'}"
    assert list(instant(prom.url, replicas).values()) == [0.0]
    then = instant(prom.url, replicas, CAPACITY_NOW - timedelta(days=21))
    assert list(then.values()) == [2.0]


def test_node_cpu_counters_and_memory_are_plausible(prom: PrometheusProcess) -> None:
    busy = instant(prom.url, "sum by (node) (rate(node_cpu_seconds_total{mode!='idle'}[1h]))")
    assert set(busy) == {"worker-1", "worker-2", "worker-3"}
    assert all(0.2 < cores < 4 for cores in busy.values())
    available = instant(prom.url, "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes")
    assert all(0.5 < share < 0.95 for share in available.values())
