"""The running bot: long-lived parts wired together once, handed to every handler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slack_sdk import WebClient

from bot.deps import Deps
from bot.incident_notifier import IncidentNotifier
from bot.pipeline import AlertPipeline
from bot.scheduler import Scheduler
from policies.routing import load_incident_rules


@dataclass
class Runtime:
    deps: Deps
    client: WebClient
    notifier: IncidentNotifier
    pipeline: AlertPipeline
    scheduler: Scheduler

    def start(self) -> None:
        """Drain what a previous process accepted, then keep threads in step."""
        self.pipeline.start()
        self.pipeline.drain()
        self.notifier.catch_up()
        self.scheduler.every(10, "alert-inbox-drain", self.pipeline.drain)
        self.scheduler.every(10, "incident-thread-catch-up", self.notifier.catch_up)
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.pipeline.stop()
        self.notifier.stop()
        self.deps.close()


def build_runtime(deps: Deps, client: WebClient) -> Runtime:
    rules_file = deps.settings.alertmanager.rules_file
    rules = load_incident_rules(Path(rules_file) if rules_file else None)
    notifier = IncidentNotifier(deps, client)
    return Runtime(
        deps=deps,
        client=client,
        notifier=notifier,
        pipeline=AlertPipeline(deps, notifier, rules),
        scheduler=Scheduler(deps),
    )
