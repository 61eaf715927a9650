"""Rightsizing against a real Prometheus holding weeks of cAdvisor and kube-state-metrics
history (sandbox.capacity): the over-provisioned, the right-sized and the too-small."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.capacity.rightsizing import rightsize_all
from bot.capacity.usage import container_usage
from bot.remediation.capacity_recommend import capacity_proposals
from bot.settings import CapacitySettings
from policies import SetResourcesParams
from sandbox.capacity import start_capacity_prometheus
from sandbox.procs.prometheus import PrometheusProcess
from tests.capacity.capacity_prometheus import CAPACITY_NOW
from tools.config import PrometheusConfig
from tools.metrics.api import PrometheusApi

MIB = 2**20
CAPACITY = CapacitySettings()


@pytest.fixture(scope="module")
def prom(capacity_prometheus: PrometheusProcess) -> Iterator[PrometheusApi]:
    api = PrometheusApi(PrometheusConfig(url=capacity_prometheus.url, timeout_seconds=60))
    yield api
    api.close()


def test_usage_groups_pods_to_deployments_through_the_replicaset_owner_chain(
    prom: PrometheusApi,
) -> None:
    usages, skipped = container_usage(prom, CAPACITY, CAPACITY_NOW, namespace="prod")
    by_workload = {u.workload: u for u in usages}
    # Deployments only: the postgres StatefulSet is not a rightsizing target.
    assert set(by_workload) == {"checkout", "frontend", "inventory", "payments"}
    assert skipped == []
    payments = by_workload["payments"]
    assert (payments.container, payments.replicas) == ("app", 2)
    assert (payments.cpu_request, payments.cpu_limit) == (0.5, None)
    assert (payments.memory_request, payments.memory_limit) == (512 * MIB, 768 * MIB)
    assert 0.03 < payments.cpu_p95 < 0.05
    assert payments.cpu_p95 <= payments.cpu_max
    assert 140 * MIB < payments.memory_p95 <= payments.memory_max < 170 * MIB
    assert payments.history_days == pytest.approx(CAPACITY.rightsizing_window_days)


def test_payments_is_over_provisioned_checkout_is_left_alone_inventory_memory_is_too_low(
    prom: PrometheusApi,
) -> None:
    found, skipped = rightsize_all(prom, CAPACITY, CAPACITY_NOW)
    assert skipped == []
    by_workload = {(r.usage.namespace, r.usage.workload): r for r in found}
    assert ("prod", "checkout") not in by_workload
    payments = by_workload["prod", "payments"]
    assert payments.cpu_request <= 0.05  # from 500m
    assert 160 * MIB <= payments.memory_request <= 200 * MIB  # from 512Mi
    assert payments.memory_limit >= payments.usage.memory_max
    assert payments.saving_cores == pytest.approx(0.91, abs=0.02)
    assert payments.saving_usd_month == pytest.approx(23.0, abs=1.5)
    assert "saves $" in payments.reason
    inventory = by_workload["prod", "inventory"]
    assert inventory.memory_request > inventory.usage.memory_p95 > 256 * MIB
    assert inventory.saving_gib < 0
    assert inventory.reason.startswith("under-provisioned: memory p95")
    assert found[0] is payments  # the largest saving first

    proposals, notes = capacity_proposals(found, [])
    assert notes == []
    [card] = [p for p in proposals if p.action.target.name == "payments"]
    params = card.action.params
    assert isinstance(params, SetResourcesParams)
    assert (params.previous_cpu_request, params.previous_memory_request) == ("500m", "512Mi")
    assert card.summary.startswith("prod/payments/app: cpu 500m→45m, memory 512Mi→")
    assert card.summary.endswith(f"saves ${payments.saving_usd_month:,.2f}/month")


def test_workloads_with_too_little_history_are_skipped_with_a_reason() -> None:
    with start_capacity_prometheus(CAPACITY_NOW, days=2) as server:
        api = PrometheusApi(PrometheusConfig(url=server.url, timeout_seconds=60))
        found, skipped = rightsize_all(api, CAPACITY, CAPACITY_NOW, namespace="prod")
        api.close()
    assert found == []
    assert any(
        line.text.startswith("prod/payments/app: only 2.0 days of usage history")
        and line.workload == ("prod", "payments")
        for line in skipped
    ), skipped
    assert len(skipped) == 4


def test_a_namespace_filter_keeps_the_queries_to_that_namespace(prom: PrometheusApi) -> None:
    found, _ = rightsize_all(prom, CAPACITY, CAPACITY_NOW, namespace="staging")
    assert all(r.usage.namespace == "staging" for r in found)
    earlier = CAPACITY_NOW - timedelta(days=30)
    usages, _ = container_usage(prom, CAPACITY, earlier, namespace="prod")
    assert usages == []  # before the history starts there is nothing to measure
