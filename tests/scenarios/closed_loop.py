"""A bot wired to a live (closed-loop) sandbox world: the world's Prometheus fires through
the real Alertmanager into the bot, which reads the world's backends and acts on its
Kubernetes stand-in. Shared by the slow tests that play a pack through the whole loop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from policies.routing import DEFAULT_RULES
from sandbox.slack.workspace import SlackWorkspace
from sandbox.world import World, WorldOptions
from tests.botharness import RunningBot, running_bot, workspace

POLICY = "version: 1\ndefaults:\n  approvers: [S0ONCALL]\n"
"""Everyone on call approves; nothing else is configured."""


@dataclass
class ClosedLoop:
    """The running parts of one closed-loop test."""

    world: World
    bot: RunningBot
    slack: SlackWorkspace


@contextmanager
def closed_loop(
    folder: Path, *, every_backend: bool = True, remediation: dict[str, Any] | None = None
) -> Iterator[ClosedLoop]:
    """A live world (an hour of history) and a bot routed its alerts, notifications off.
    `every_backend`: the bot also reads traces and logs (else metrics and Kubernetes only)."""
    rules = yaml.safe_load(DEFAULT_RULES.read_text())
    rules["notify"] = []
    (folder / "routing.yaml").write_text(yaml.safe_dump(rules))
    (folder / "policy.yaml").write_text(POLICY)
    options = WorldOptions(history=3600, step=60, slack=None, live=True)
    slack = workspace(post_message_rate=50.0, post_message_burst=50, update_rate=50.0)
    with World(options).start() as world:
        tools: dict[str, Any] = {
            "prometheus_url": world.urls.prometheus,
            "kubeconfig": world.urls.kubeconfig,
        }
        if every_backend:
            tools |= {
                "jaeger_url": world.urls.jaeger,
                "logs_url": world.urls.opensearch,
                "logs_flavor": "opensearch",
            }
        with running_bot(
            slack,
            database_url=f"sqlite:///{folder / 'bot.db'}",
            alertmanager={"rules_file": str(folder / "routing.yaml")},
            tools=tools,
            policy={"files": str(folder / "policy.yaml")},
            **({"remediation": remediation} if remediation else {}),
        ) as bot:
            try:
                world.route_alerts_to(f"{bot.url}/alertmanager")
                yield ClosedLoop(world, bot, slack)
            finally:
                world.route_alerts_to(None)
                slack.close()
