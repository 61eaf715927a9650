"""The pod figures an answer about one service gives: kubectl's READY count and restarts,
and a pod that is up again after a crash of the last minutes said as such."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.investigation.patterns.health import pod_figures
from bot.investigation.patterns.observe import Observations
from tools.k8s.pods import ContainerInfo, PodInfo, PodsData

CRASHED = datetime(2026, 12, 8, 0, 41, tzinfo=UTC)


def postgres_pod(*, recent_crash: datetime | None, restarts: int) -> PodInfo:
    db = ContainerInfo(
        name="postgres", image="postgres:16", ready=True, restarts=restarts, state="running",
        last_termination_reason="OOMKilled" if recent_crash else None,
        last_exit_code=137 if recent_crash else None, last_finished_at=recent_crash,
    )  # fmt: skip
    return PodInfo(
        name="postgres-6b7f9c8d4-abcde", namespace="prod", phase="Running", node="worker-1",
        ready="1/1", restarts=restarts, created=None, owner="ReplicaSet/postgres-6b7f9c8d4",
        containers=[db], healthy=recent_crash is None, recent_crash=recent_crash,
    )  # fmt: skip


def figures(pod: PodInfo) -> str | None:
    obs = Observations(namespace="prod", service="postgres")
    obs.pods = PodsData(namespace="prod", selector=None, total=1, pods=[pod])
    return pod_figures(obs)


def test_a_steady_pod_is_counted_ready_with_its_restarts() -> None:
    assert figures(postgres_pod(recent_crash=None, restarts=0)) == "1/1 pod ready, 0 restarts"


def test_a_pod_up_again_after_a_recent_crash_is_ready_and_said_to_have_crashed() -> None:
    assert figures(postgres_pod(recent_crash=CRASHED, restarts=4)) == (
        "1/1 pod ready, 4 restarts (1 up again after a crash in the last 10 minutes)"
    )
