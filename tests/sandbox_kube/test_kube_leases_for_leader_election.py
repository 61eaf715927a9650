"""Leases behave as leader election needs: the client's LeaseLock works, stale writes lose."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.leaderelection.leaderelectionrecord import LeaderElectionRecord
from kubernetes.leaderelection.resourcelock.leaselock import LeaseLock

from sandbox.kube import KubeSandbox


def _lock(kube: KubeSandbox, identity: str) -> Any:
    lock: Any = LeaseLock("opsbot-scheduler", "default", identity)  # type: ignore[no-untyped-call]
    lock.api_instance = client.CoordinationV1Api(kube.api_client())
    return lock


def test_the_client_lease_lock_creates_reads_and_renews_a_lease(kube: KubeSandbox) -> None:
    first = _lock(kube, "replica-a")
    record: Any = LeaderElectionRecord(
        "replica-a", "15", "2025-01-01 10:00:00", "2025-01-01 10:00:00"
    )  # type: ignore[no-untyped-call]
    assert first.create("opsbot-scheduler", "default", record)
    found, held = _lock(kube, "replica-b").get("opsbot-scheduler", "default")
    assert found
    assert held.holder_identity == "replica-a"
    record.renew_time = "2025-01-01 10:00:10"
    assert first.update("opsbot-scheduler", "default", record)
    raw = kube.cluster.store.get("leases", "default", "opsbot-scheduler")
    assert raw is not None
    assert raw["spec"]["renewTime"].endswith("Z")
    assert len(raw["spec"]["renewTime"]) == len("2025-01-01T10:00:10.000000Z")


def test_two_candidates_racing_on_one_resource_version_only_one_wins(kube: KubeSandbox) -> None:
    leases: Any = client.CoordinationV1Api(kube.api_client())
    body = {
        "metadata": {"name": "race"},
        "spec": {"holderIdentity": "nobody", "leaseDurationSeconds": 15},
    }
    leases.create_namespaced_lease("default", body)
    seen_a = leases.read_namespaced_lease("race", "default")
    seen_b = leases.read_namespaced_lease("race", "default")
    seen_a.spec.holder_identity = "a"
    seen_b.spec.holder_identity = "b"
    leases.replace_namespaced_lease("race", "default", seen_a)
    with pytest.raises(ApiException) as lost:
        leases.replace_namespaced_lease("race", "default", seen_b)
    assert lost.value.status == 409
    assert leases.read_namespaced_lease("race", "default").spec.holder_identity == "a"
