"""Idle resources: the pure rules on plain facts, then `find_idle` on the shop cluster (kube
stand-in) with a real Prometheus holding the generated weeks of history (sandbox.capacity)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kubernetes import client

from bot.capacity.idle import find_idle
from bot.capacity.idle_rules import (
    ClaimState,
    JobState,
    ReplicaHistory,
    Requests,
    WorkloadActivity,
    failed_jobs,
    idle_workloads,
    p95,
    scaled_to_zero,
    unattached_volumes,
    zero_since,
)
from bot.capacity.models import IdleKind, IdleResource
from bot.settings import CapacitySettings
from sandbox.kube import KubeSandbox, read_seed
from sandbox.procs.prometheus import PrometheusProcess
from tests.capacity.capacity_prometheus import CAPACITY_NOW
from tools.config import PrometheusConfig
from tools.metrics.api import PrometheusApi

SETTINGS = CapacitySettings()
NOW = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)
GIB = 1024.0**3
SHOP_SEED = Path(__file__).parents[2] / "sandbox" / "scenarios" / "shop-cluster.yaml"


def hourly(
    days: int, value: float, *, drop_days_ago: float | None = None
) -> list[tuple[datetime, float]]:
    """Hourly samples over `days` ending at NOW; 0.0 from `drop_days_ago` on."""
    points = []
    for hour in range(days * 24, -1, -1):
        at = NOW - timedelta(hours=hour)
        dropped = drop_days_ago is not None and at >= NOW - timedelta(days=drop_days_ago)
        points.append((at, 0.0 if dropped else value))
    return points


def workload(
    cpu: list[tuple[datetime, float]], traffic: list[tuple[datetime, float]] | None
) -> WorkloadActivity:
    return WorkloadActivity(
        namespace="staging",
        name="legacy-report",
        replicas=2,
        requests=Requests(cpu_cores=0.25, memory_bytes=512 * 2**20),
        cpu=cpu,
        traffic=traffic,
    )


def test_p95_is_the_nearest_rank_percentile() -> None:
    assert p95([float(v) for v in range(1, 101)]) == 95.0
    assert p95([0.1]) == 0.1
    assert p95([]) == 0.0


def test_a_workload_quiet_for_ten_days_is_idle_since_its_last_busy_hour() -> None:
    cpu = hourly(28, 0.2, drop_days_ago=10)
    (idle,) = idle_workloads([workload(cpu, hourly(28, 5.0, drop_days_ago=10))], SETTINGS, NOW)
    assert idle.kind is IdleKind.IDLE_WORKLOAD
    assert idle.since == NOW - timedelta(days=10, hours=1)
    # 2 x (0.25 cores x $0.0316 + 0.5 GiB x $0.0042) per hour x 730 hours
    assert idle.monthly_cost_usd == pytest.approx(
        2 * (0.25 * 0.0316 + 0.5 * 0.0042) * 730, abs=0.01
    )
    assert "idle for 10 days" in idle.detail
    assert "no requests" in idle.detail


def test_a_quiet_workload_that_still_serves_requests_is_not_idle() -> None:
    cpu = hourly(28, 0.2, drop_days_ago=10)
    assert idle_workloads([workload(cpu, hourly(28, 0.01))], SETTINGS, NOW) == []


def test_a_workload_quiet_for_less_than_idle_days_is_not_idle_yet() -> None:
    cpu = hourly(28, 0.2, drop_days_ago=5)
    settings = CapacitySettings(idle_days=4)  # the window is quiet, but only since 5 days
    assert len(idle_workloads([workload(cpu, None)], settings, NOW)) == 1
    assert idle_workloads([workload(cpu, None)], CapacitySettings(idle_days=7), NOW) == []


def test_busy_cpu_within_the_window_keeps_a_workload_without_traffic_metrics() -> None:
    assert idle_workloads([workload(hourly(28, 0.02), None)], SETTINGS, NOW) == []


def test_an_unattached_claim_costs_its_size_times_the_storage_price() -> None:
    claims = [
        ClaimState("staging", "old-reports-data", 20 * GIB, NOW - timedelta(days=90), (), None),
        ClaimState("prod", "postgres-data", 50 * GIB, None, ("postgres-0",), NOW),
    ]
    (found,) = unattached_volumes(claims, SETTINGS, NOW)
    assert (found.kind, found.name, found.monthly_cost_usd) == (
        IdleKind.UNATTACHED_VOLUME,
        "old-reports-data",
        2.0,
    )
    assert found.since == NOW - timedelta(days=90)
    seen = ClaimState("staging", "x", 10 * GIB, None, (), NOW - timedelta(days=4))
    (last_seen,) = unattached_volumes([seen], SETTINGS, NOW)
    assert last_seen.since == NOW - timedelta(days=4)
    assert "last mounted 4 days ago" in last_seen.detail


def test_zero_since_is_the_first_zero_after_the_last_replica() -> None:
    history = hourly(28, 2.0, drop_days_ago=20)
    assert zero_since(history) == NOW - timedelta(days=20)
    assert zero_since(hourly(3, 1.0)) is None
    always = hourly(3, 0.0)
    assert zero_since(always) == always[0][0]


def test_scaled_to_zero_uses_replica_history_and_falls_back_to_status_changes() -> None:
    requests = Requests(0.2, 256 * 2**20)
    from_history = ReplicaHistory(
        "staging", "old-api", 0, requests, hourly(28, 2.0, drop_days_ago=20), None
    )
    recent = ReplicaHistory(
        "staging", "paused", 0, requests, hourly(28, 1.0, drop_days_ago=3), None
    )
    fallback = ReplicaHistory("staging", "ancient", 0, requests, [], NOW - timedelta(days=30))
    running = ReplicaHistory("prod", "checkout", 3, requests, hourly(2, 3.0), None)
    found = scaled_to_zero([from_history, recent, fallback, running], SETTINGS, NOW)
    assert [(r.name, r.since) for r in found] == [
        ("old-api", NOW - timedelta(days=20)),
        ("ancient", NOW - timedelta(days=30)),
    ]
    assert "from its replica history" in found[0].detail
    assert "from its last status change" in found[1].detail


def test_only_jobs_that_failed_longer_ago_than_failed_job_days_are_listed() -> None:
    jobs = [
        JobState("staging", "nightly-export-28", NOW - timedelta(days=3), "BackoffLimitExceeded"),
        JobState("staging", "nightly-export-31", NOW - timedelta(hours=5), "BackoffLimitExceeded"),
        JobState("staging", "nightly-export-29", None),
    ]
    (found,) = failed_jobs(jobs, SETTINGS, NOW)
    assert found.name == "nightly-export-28"
    assert found.detail == "failed 3.0 days ago (BackoffLimitExceeded)"


@pytest.fixture(scope="module")
def prom(capacity_prometheus: PrometheusProcess) -> Iterator[PrometheusApi]:
    api = PrometheusApi(PrometheusConfig(url=capacity_prometheus.url, timeout_seconds=60))
    yield api
    api.close()


@pytest.fixture(scope="module")
def shop() -> Iterator[KubeSandbox]:
    seed = read_seed(SHOP_SEED)
    with KubeSandbox(seed, auto_advance=False, start=CAPACITY_NOW) as sandbox:
        yield sandbox


def _by_name(found: list[IdleResource]) -> dict[tuple[IdleKind, str], IdleResource]:
    return {(r.kind, f"{r.namespace}/{r.name}"): r for r in found}


def test_find_idle_on_the_shop_cluster_finds_the_four_kinds_of_leftovers(
    prom: PrometheusApi, shop: KubeSandbox
) -> None:
    found = find_idle(prom, shop.api_client(), SETTINGS, CAPACITY_NOW)
    by_name = _by_name(found)
    assert set(by_name) == {
        (IdleKind.IDLE_WORKLOAD, "staging/legacy-report"),
        (IdleKind.UNATTACHED_VOLUME, "staging/old-reports-data"),
        (IdleKind.SCALED_TO_ZERO, "staging/old-api"),
        (IdleKind.FAILED_JOB, "staging/nightly-export-28"),
    }
    legacy = by_name[IdleKind.IDLE_WORKLOAD, "staging/legacy-report"]
    assert legacy.since is not None
    assert abs((CAPACITY_NOW - legacy.since) - timedelta(days=10)) <= timedelta(hours=2)
    # 1 replica x (0.25 cores x $0.0316 + 0.5 GiB x $0.0042) x 730 h
    assert legacy.monthly_cost_usd == pytest.approx((0.25 * 0.0316 + 0.5 * 0.0042) * 730, abs=0.01)
    old_api = by_name[IdleKind.SCALED_TO_ZERO, "staging/old-api"]
    assert old_api.since is not None
    assert abs((CAPACITY_NOW - old_api.since) - timedelta(days=20)) <= timedelta(hours=2)
    assert "replica history" in old_api.detail
    volume = by_name[IdleKind.UNATTACHED_VOLUME, "staging/old-reports-data"]
    assert volume.monthly_cost_usd == 2.0
    job = by_name[IdleKind.FAILED_JOB, "staging/nightly-export-28"]
    assert job.since == CAPACITY_NOW - timedelta(days=3)
    assert found[0] == legacy  # the most expensive first


def test_find_idle_in_prod_finds_nothing_and_respects_the_namespace(
    prom: PrometheusApi, shop: KubeSandbox
) -> None:
    assert find_idle(prom, shop.api_client(), SETTINGS, CAPACITY_NOW, namespace="prod") == []
    limited = CapacitySettings(namespaces="monitoring,prod")
    assert find_idle(prom, shop.api_client(), limited, CAPACITY_NOW) == []


def test_a_claim_freed_by_scaling_postgres_down_becomes_unattached(
    prom: PrometheusApi, shop: KubeSandbox
) -> None:
    apps = client.AppsV1Api(shop.api_client())
    apps.patch_namespaced_deployment_scale("postgres", "prod", {"spec": {"replicas": 0}})
    shop.cluster.settle()
    found = _by_name(find_idle(prom, shop.api_client(), SETTINGS, CAPACITY_NOW, "prod"))
    volume = found[IdleKind.UNATTACHED_VOLUME, "prod/postgres-data"]
    assert volume.monthly_cost_usd == 5.0  # 50 GiB x $0.10
    # kubelet volume stats of postgres-data run up to now: it was last seen mounted now
    assert volume.since is not None
    assert CAPACITY_NOW - volume.since <= timedelta(hours=1)
