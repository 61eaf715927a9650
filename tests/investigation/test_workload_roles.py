"""A question that names a role ("is the database ok?") is about the workload whose pods run
that role's image, whatever the workload is called."""

from __future__ import annotations

from bot.investigation.patterns.observe import workload_of_pod_owner
from bot.investigation.patterns.roles import workload_for_role
from tools.k8s.pods import ContainerInfo, PodInfo


def pod(name: str, owner: str, image: str) -> PodInfo:
    return PodInfo(
        name=name,
        namespace="prod",
        phase="Running",
        node="worker-1",
        ready="1/1",
        restarts=0,
        created=None,
        owner=owner,
        healthy=True,
        containers=[
            ContainerInfo(name="main", image=image, ready=True, restarts=0, state="running")
        ],
    )


PODS = [
    pod("orders-7d9c5b6f4d-abcde", "ReplicaSet/orders-7d9c5b6f4d", "ghcr.io/acme/orders:2.1"),
    pod("main-db-0", "StatefulSet/main-db", "registry.local:5000/library/postgres:15.4@sha256:ab"),
    pod("sessions-6c8f7d9b5c-xyz12", "ReplicaSet/sessions-6c8f7d9b5c", "valkey/valkey:7.2"),
]


def test_a_database_question_means_the_workload_running_a_database_image() -> None:
    words = ["is", "the", "database", "ok"]
    assert workload_for_role(words, PODS, workload_of_pod_owner) == "main-db"
    assert workload_for_role(["is", "pg", "slow"], PODS, workload_of_pod_owner) == "main-db"


def test_a_cache_question_means_the_workload_running_a_cache_image() -> None:
    assert workload_for_role(["cache", "misses"], PODS, workload_of_pod_owner) == "sessions"


def test_no_role_word_or_no_pod_playing_the_role_names_nothing() -> None:
    assert workload_for_role(["why", "is", "checkout", "slow"], PODS, workload_of_pod_owner) is None
    assert workload_for_role(["is", "kafka", "lagging"], PODS, workload_of_pod_owner) is None
