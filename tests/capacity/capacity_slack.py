"""The running bot in the local Slack workspace, reading a real Prometheus that holds the
capacity history (28 days ending at the current minute, so `/opsbot capacity` and `/ask-ai`,
which ask about "now", see it) and the shop cluster in the Kubernetes stand-in."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app.digests import capacity_reports
from bot.capacity.models import CapacityReport
from sandbox.capacity import start_capacity_prometheus
from sandbox.kube import KubeSandbox, read_seed
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot, workspace

Json = dict[str, Any]
DIGEST_CHANNEL = "ops-digest"  # no OPSBOT_CAPACITY_CHANNEL: the digest channel
GIB = 1024**3
SHOP_SEED = Path(__file__).parents[2] / "sandbox" / "scenarios" / "shop-cluster.yaml"


def minute_now() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


@dataclass
class CapacityBot:
    slack: SlackWorkspace
    bot: RunningBot
    now: datetime

    def report(self, namespace: str | None = None) -> CapacityReport:
        """The bot's own (cached) report, as its answers saw it."""
        return capacity_reports(self.bot.bot.deps).build(self.now, namespace)


@dataclass
class Backends:
    prometheus: str
    kubeconfig: Path


@contextmanager
def shop_backends(home: Path, now: datetime) -> Iterator[Backends]:
    """Prometheus with the capacity history and the shop cluster, both as of `now`."""
    with (
        start_capacity_prometheus(now) as prometheus,
        KubeSandbox(read_seed(SHOP_SEED), auto_advance=False, start=now) as kube,
    ):
        yield Backends(prometheus.url, kube.write_kubeconfig(home / "kubeconfig"))


@contextmanager
def capacity_bot(
    home: Path, backends: Backends, now: datetime, **groups: dict[str, Any]
) -> Iterator[CapacityBot]:
    """The bot reading Prometheus and Kubernetes, posting in the local Slack workspace."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("OPSBOT_", "SLACK_", "ANTHROPIC_")):
                patch.delenv(name)
        patch.chdir(home)
        slack = workspace(post_message_rate=0)
        try:
            with running_bot(
                slack,
                database_url=f"sqlite:///{home / 'bot.db'}",
                tools={
                    "prometheus_url": backends.prometheus,
                    "kubeconfig": str(backends.kubeconfig),
                },
                digest={"enabled": False},
                **groups,
            ) as bot:
                yield CapacityBot(slack, bot, now)
        finally:
            slack.close()


def shown(message: Json) -> str:
    """A message's text and blocks as one searchable string."""
    return str(message.get("text", "")) + json.dumps(message.get("blocks", []), ensure_ascii=False)
