"""The composition root: every long-lived object of the bot built once, from settings, each
handed only what it uses (the store, metrics, cache, `run_later`, the settings sections it
reads, clients, callbacks). Only this module, the digests' wiring (`bot.app.digests`) and
the server read `Deps` and `Settings` whole; `bot.app.server` hands each handler module the
one part it calls.

Construction order is the dependency order: the investigator, the notifier (its
`after_triage` hand-off resolves the flow and the capacity scan when it is called),
remediation (its cards refresh headers through the notifier), the pipeline, the incident
flow and the capacity scan, the digests (the capacity digest's review proposes through
remediation), then what the handlers call: conversations, the incident and approval desks
and the /opsbot operator. Nothing is assigned to an object after it is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from slack_sdk import WebClient

from bot.app.digests import build_digests, capacity_reports
from bot.app.operator import Operator
from bot.capacity.models import CapacityReport
from bot.deps import Deps
from bot.digests.capacity_command import capacity_command
from bot.digests.command import digest_command
from bot.digests.registry import Digests
from bot.digests.schedule import schedule_digests
from bot.incidents.dependencies import TraceDependencies
from bot.incidents.desk import IncidentDesk
from bot.incidents.flow import IncidentFlow
from bot.incidents.inbox import inbox_status
from bot.incidents.linker import IncidentLinker
from bot.incidents.notifier import IncidentNotifier
from bot.incidents.own_fault import LiveFaultEvidence
from bot.incidents.pipeline import AlertPipeline
from bot.incidents.proactive import CapacityScan
from bot.investigation.conversations import Conversations
from bot.investigation.investigator import Investigator, slack_notify
from bot.remediation.approval_desk import ApprovalDesk
from bot.remediation.capacity_review import propose_in_thread
from bot.remediation.escalation import SlackThread
from bot.remediation.service import Remediation
from bot.scheduler import Scheduler
from bot.slack.posting import IdempotentWebClient
from bot.slack.replies import ResponseUrlReplies
from bot.sources import kube_api_client, tools_config
from policies import load_policy
from policies.routing import load_incident_rules
from tools.traces.api import JaegerApi


@dataclass
class Runtime:
    """The running bot's parts: the server wires handlers to them, `start`/`stop` run them."""

    deps: Deps
    client: WebClient
    notifier: IncidentNotifier
    pipeline: AlertPipeline
    scheduler: Scheduler
    investigator: Investigator
    remediation: Remediation
    flow: IncidentFlow
    capacity_scan: CapacityScan
    digests: Digests
    conversations: Conversations
    incident_desk: IncidentDesk
    approval_desk: ApprovalDesk
    operator: Operator
    replies: ResponseUrlReplies
    linker: IncidentLinker | None = None

    def start(self) -> None:
        """Drain what a previous process accepted, then keep threads in step."""
        self.pipeline.start()
        self.pipeline.drain()
        self.notifier.catch_up()
        self.scheduler.every(10, "alert-inbox-drain", self.pipeline.drain)
        self.scheduler.every(10, "incident-thread-catch-up", self.notifier.catch_up)
        self.remediation.start(self.scheduler, self.pipeline)
        schedule_digests(self.scheduler, self.digests)
        self.capacity_scan.schedule(self.scheduler)
        self.scheduler.start()

    def stop(self) -> None:
        """Stop in the reverse order of start; pending work finishes first."""
        self.scheduler.stop()
        self.remediation.stop()
        self.pipeline.stop()
        self.notifier.stop()
        self.deps.close()
        if self.linker is not None:
            self.linker.close()
        self.investigator.close()


def build_remediation(
    deps: Deps, client: WebClient, on_incident_change: Callable[[int], None] | None = None
) -> Remediation:
    """Remediation reaching the configured cluster (none: Kubernetes actions fail with a
    reason), with the policy files the settings name."""
    settings = deps.settings
    return Remediation(
        deps.db,
        deps.metrics,
        client,
        settings.remediation,
        load_policy(settings.policy.paths),
        incidents_channel=settings.slack.incidents_channel,
        audit=settings.audit,
        run_later=deps.run_later,
        prometheus_url=settings.tools.prometheus_url,
        kube_api=kube_api_client(settings.tools),
        on_incident_change=on_incident_change,
    )


def build_runtime(deps: Deps, client: IdempotentWebClient) -> Runtime:
    """Build every part from `deps.settings` (the only place that reads them whole).
    `client` is the bot's one Slack writer: from here on every write through it waits in
    the notifier's outbox (bot.slack.writer), whoever makes it."""
    settings = deps.settings
    rules_file = settings.alertmanager.rules_file
    rules = load_incident_rules(Path(rules_file) if rules_file else None)
    budget_channel = settings.llm.budget_channel or settings.slack.incidents_channel
    investigator = Investigator.from_settings(
        settings, deps.db, deps.metrics, deps.cache, slack_notify(client, budget_channel)
    )

    def after_triage(incident_id: int) -> None:
        def propose_then_investigate() -> None:
            try:  # a forecast's proposal first: its sizing stands over the investigation's
                capacity_scan.thread_posted(incident_id)
            finally:
                flow.investigate_and_propose(incident_id)

        deps.run_later("incident-investigation", propose_then_investigate)
        if linker is not None:
            deps.run_later("incident-linking", linker.link, incident_id)

    notifier = IncidentNotifier(
        deps.db, deps.metrics, client, settings.slack, settings.cache, after_triage=after_triage
    )
    client.pace_through(notifier.outbox)
    remediation = build_remediation(deps, client, on_incident_change=notifier.request)
    jaeger = tools_config(settings.tools).jaeger
    linker = (
        IncidentLinker(
            deps.db,
            client,
            TraceDependencies(JaegerApi(jaeger)),
            notifier.request,
            notifier.paced,
        )
        if jaeger is not None
        else None
    )
    pipeline = AlertPipeline(
        deps.db, deps.metrics, notifier, rules, settings.slack.incidents_channel
    )
    evidence = LiveFaultEvidence(
        JaegerApi(jaeger) if jaeger is not None else None, kube_api_client(settings.tools)
    )
    flow = IncidentFlow(
        deps.db, deps.cache, client, investigator, remediation, notifier.paced, evidence
    )
    capacity_scan = CapacityScan(deps.db, settings.capacity, settings.tools, pipeline, remediation)
    conversations = Conversations(deps.db, deps.cache, investigator, notifier.paced)
    reports = capacity_reports(deps)

    def propose(report: CapacityReport, thread: SlackThread) -> None:
        propose_in_thread(remediation, report, thread)

    digests = build_digests(deps, client, reports, propose)
    incident_desk = IncidentDesk(
        deps.db,
        client,
        deps.cache,
        incidents_channel=settings.slack.incidents_channel,
        alertmanager_url=settings.alertmanager.url,
        request=notifier.request,
        resolve_channel=notifier.channels.resolve,
        investigate=lambda incident_id: deps.run_later(
            "incident-investigation",
            lambda: flow.investigate_and_propose(incident_id, once=False),
        ),
    )
    operator = Operator(
        remediation,
        intake_status=lambda: inbox_status(deps.db),
        digest=lambda text: digest_command(digests, text),
        capacity=lambda text: capacity_command(reports, text),
    )
    return Runtime(
        deps=deps,
        client=client,
        notifier=notifier,
        pipeline=pipeline,
        scheduler=Scheduler(deps.db),
        investigator=investigator,
        remediation=remediation,
        flow=flow,
        capacity_scan=capacity_scan,
        digests=digests,
        conversations=conversations,
        incident_desk=incident_desk,
        approval_desk=ApprovalDesk(remediation, client, deps.run_later),
        operator=operator,
        replies=ResponseUrlReplies(client, timeout=settings.slack.api_timeout_seconds),
        linker=linker,
    )
