"""N real `opsbot run` replicas behind one address (the layer-4 `Balancer`), sharing the
database and Redis — what a Deployment with a Service in front of it looks like."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sandbox.balancer import Balancer
from sandbox.slack.workspace import SlackWorkspace
from tests.botprocess import BotProcess


@dataclass
class ReplicaSet:
    processes: list[BotProcess]
    balancer: Balancer

    @property
    def url(self) -> str:
        return self.balancer.url

    def slack_events_url(self) -> str:
        return f"{self.balancer.url}/slack/events"


@contextmanager
def replica_set(
    slack: SlackWorkspace, workdir: Path, count: int, **env: str
) -> Iterator[ReplicaSet]:
    """Start `count` replicas with the same environment and put a balancer in front; the
    Slack workspace delivers its events and clicks to the balancer."""
    processes: list[BotProcess] = []
    try:
        for _ in range(count):
            processes.append(BotProcess(slack, workdir, **env).start())
        with Balancer([("127.0.0.1", p.port) for p in processes]) as balancer:
            replicas = ReplicaSet(processes, balancer)
            slack.configure(bot_url=replicas.slack_events_url())
            yield replicas
    finally:
        for process in processes:
            process.stop()
