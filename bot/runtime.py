"""The running bot: long-lived parts wired together once, handed to every handler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slack_sdk import WebClient

from bot.capacity.proactive import schedule_capacity_scan
from bot.deps import Deps
from bot.digests.schedule import schedule_digests
from bot.incident_flow import investigate_and_propose
from bot.incident_notifier import IncidentNotifier
from bot.investigate import Investigator, slack_notify
from bot.pipeline import AlertPipeline
from bot.remediation.service import Remediation, build_remediation
from bot.scheduler import Scheduler
from policies.routing import load_incident_rules


@dataclass
class Runtime:
    deps: Deps
    client: WebClient
    notifier: IncidentNotifier
    pipeline: AlertPipeline
    scheduler: Scheduler
    investigator: Investigator
    remediation: Remediation

    def start(self) -> None:
        """Drain what a previous process accepted, then keep threads in step."""
        self.pipeline.start()
        self.pipeline.drain()
        self.notifier.catch_up()
        self.scheduler.every(10, "alert-inbox-drain", self.pipeline.drain)
        self.scheduler.every(10, "incident-thread-catch-up", self.notifier.catch_up)
        self.remediation.start(self.scheduler, self.pipeline)
        schedule_digests(self.scheduler, self)
        schedule_capacity_scan(self.scheduler, self)
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.remediation.stop()
        self.pipeline.stop()
        self.notifier.stop()
        self.deps.close()
        self.investigator.close()


def build_runtime(deps: Deps, client: WebClient) -> Runtime:
    rules_file = deps.settings.alertmanager.rules_file
    rules = load_incident_rules(Path(rules_file) if rules_file else None)
    notifier = IncidentNotifier(deps, client)
    budget_channel = deps.settings.llm.budget_channel or deps.settings.slack.incidents_channel
    investigator = Investigator.from_settings(deps, slack_notify(client, budget_channel))

    runtime = Runtime(
        deps=deps,
        client=client,
        notifier=notifier,
        pipeline=AlertPipeline(deps, notifier, rules),
        scheduler=Scheduler(deps),
        investigator=investigator,
        remediation=build_remediation(deps, client),
    )

    def investigate_after_triage(incident_id: int) -> None:
        deps.run_later("incident-investigation", investigate_and_propose, runtime, incident_id)

    notifier.after_triage = investigate_after_triage
    runtime.remediation.cards.on_incident_change = notifier.request
    return runtime
