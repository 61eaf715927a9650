"""The remediation service of one process: built once by the runtime, shared by handlers
and jobs. All state it acts on lives in the database, so any replica can take any step."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from kubernetes import client as kube_client
from slack_sdk import WebClient
from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.audit.archive import archive
from bot.deps import guarded
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.remediation import approvals
from bot.remediation.approvals import ClickResult
from bot.remediation.cards import Cards
from bot.remediation.catalog import Catalog
from bot.remediation.directory import Directory
from bot.remediation.escalation import Escalator, SlackThread, human_steps, thread_of_record
from bot.remediation.executor import Executor
from bot.remediation.guards import Guards
from bot.remediation.parts import Parts
from bot.remediation.problems import AlertIntake, ProblemBook
from bot.remediation.proposals import (
    ProposalOutcome,
    Rationale,
    needs_escalation,
    record_one,
)
from bot.remediation.records import ActionState, unit_of_work
from bot.remediation.recovery import resume_approved
from bot.remediation.watcher import KubeWatcher
from bot.scheduler import Scheduler
from bot.settings import AuditSettings, RemediationSettings
from bot.store.actions import ActionRecord
from bot.store.db import Database
from bot.store.models import utcnow
from policies import Policy, ProposedAction

log = get_logger("opsbot.remediation")
FINAL_AT_PROPOSAL = (ActionState.SHADOWED, ActionState.REFUSED, ActionState.BLOCKED)


class Remediation:
    """Remediation of one process: proposals in, cards and executions out. It owns the
    parts every step uses (`Parts`) and is the one place the steps meet."""

    def __init__(
        self,
        db: Database,
        metrics: Metrics,
        client: WebClient,
        settings: RemediationSettings,
        policy: Policy,
        *,
        incidents_channel: str,
        audit: AuditSettings,
        run_later: Callable[..., object],
        prometheus_url: str | None = None,
        kube_api: kube_client.ApiClient | None = None,
        on_incident_change: Callable[[int], None] | None = None,
    ) -> None:
        """Built by the composition root from what remediation uses: the store, metrics,
        Slack, its settings and policy, the channel for actions without a thread, the audit
        retention, the shared worker pool (`run_later`, for the recovery at start), where
        validation reads Prometheus and the cluster's API (None: Kubernetes actions fail
        with a reason). `on_incident_change(incident_id)`: an action's state changed,
        refresh its header."""
        self.db = db
        self.metrics = metrics
        self.client = client
        self.settings = settings
        self.audit = audit
        self.run_later = run_later
        self.policy = policy
        self.catalog = Catalog(kube_api, settings.hooks)
        self.guards = Guards(settings)
        self.directory = Directory(client)
        self.cards = Cards(db, client, incidents_channel, on_incident_change)
        self.escalator = Escalator(db, client, settings, incidents_channel)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="opsbot-remediate")
        self.parts = Parts(
            db=db,
            metrics=metrics,
            settings=settings,
            prometheus_url=prometheus_url,
            policy=self.policy,
            catalog=self.catalog,
            guards=self.guards,
            directory=self.directory,
            cards=self.cards,
            escalator=self.escalator,
            submit=self.submit,
        )
        self.executor = Executor(self.parts)
        self.watcher: KubeWatcher | None = None

    # --- the hand-off from findings ------------------------------------------------------

    def propose(
        self,
        incident_id: int | None,
        actions: Sequence[ProposedAction],
        finding_summary: str,
        *,
        rationale: Rationale | None = None,
        validation_query: str | None = None,
        thread: SlackThread | None = None,
    ) -> list[ProposalOutcome]:
        """Hand a finding's proposals to remediation; call it from a worker thread.

        Each action is measured on the live cluster (blast radius, labels), classified by
        the policy and the shared guards, recorded with an audit row, and shown as a card in
        the incident's thread: SAFE ones run at once (autonomous mode), RISKY ones wait for
        approval, FORBIDDEN ones are refused and escalated, shadow mode only logs.
        Proposals already open for the incident (same proposal id) are not repeated.

        `rationale` is what the audit log keeps of the AI's reasoning (model, tokens,
        confidence, evidence); `validation_query` is the PromQL to re-check after the
        action (default: the expression of the incident's alerts, else the workload's
        availability). Without an incident, `thread` is where the cards go (#incidents).
        """
        if not self.settings.enabled:
            return []
        why = rationale or Rationale(summary=finding_summary)
        outcomes: list[ProposalOutcome] = []
        for action in actions:
            outcome = record_one(
                self.parts, incident_id, action, finding_summary, why, validation_query, thread
            )
            outcomes.append(outcome)
            if outcome.note == "duplicate":
                continue
            self.cards.refresh(outcome.action_id)
            if outcome.state in FINAL_AT_PROPOSAL:
                self.metrics.actions.labels(outcome.verdict, outcome.state.value).inc()
            reason = needs_escalation(self.parts, outcome, action)
            if reason:
                self.escalator.escalate(
                    incident_id,
                    outcome.action_id,
                    reason + human_steps(why.model_dump()),
                    approvers=self.policy.defaults.approvers,
                    summary=finding_summary,
                    thread=thread,
                )
            if outcome.state is ActionState.APPROVED:
                self.submit(outcome.action_id)
        return outcomes

    # --- clicks ----------------------------------------------------------------------------

    def approve(self, action_id: str, user: str) -> ClickResult:
        result = approvals.approve(self.parts, action_id, user)
        self.cards.refresh(action_id)  # a value that names no action has no card: a no-op
        if result.escalation:
            record = self.cards.read(action_id)
            self.escalator.escalate(
                record[0].incident_id if record else None,
                action_id,
                result.escalation,
                approvers=self.policy.defaults.approvers,
                thread=thread_of_record(record[0]) if record else None,
            )
        if result.execute:
            self.submit(action_id)
        return result

    def deny(self, action_id: str, user: str, reason: str) -> ClickResult:
        result = approvals.deny(self.parts, action_id, user, reason)
        self.cards.refresh(action_id)
        return result

    def refusal_before_dialog(self, action_id: str, user: str, button: str) -> str:
        """Why this click on Approve or Deny may not open its dialog ("" when it may); a
        database read only, fast enough to answer before the click's trigger expires."""
        return approvals.refusal_before_dialog(self.parts, action_id, user, button)

    def refused(self, action_id: str, user: str, button: str, why: str) -> None:
        """A refused click goes to the audit log; the card catches up with whatever the check
        found (an approval request past its expiry is shown as expired)."""
        approvals.record_refusal(self.parts, action_id, user, button, why)
        self.cards.refresh(action_id)

    # --- execution -------------------------------------------------------------------------

    def submit(self, action_id: str) -> Future[Any]:
        """Execute in the remediation pool (validation can take minutes)."""
        return self._pool.submit(
            guarded, "remediation job", "execute", self.executor.run, action_id
        )

    # --- kill switch -----------------------------------------------------------------------

    def policy_approvers(self) -> tuple[str, ...]:
        policy = self.policy
        found: list[str] = list(policy.defaults.approvers)
        for outcome in (*policy.rules, *policy.freezes):
            found.extend(outcome.approvers or ())
        return tuple(dict.fromkeys(found))

    def set_paused(self, user: str, *, paused: bool, reason: str = "") -> str:
        if not self.directory.is_member(user, self.policy_approvers()):
            return "Only approvers may pause or resume opsbot."

        def work(session: Session) -> bool:
            return self.guards.set_paused(
                session, paused=paused, by=user, reason=reason, now=utcnow()
            )

        changed = unit_of_work(self.db, work)
        if not changed:
            return f"opsbot was already {'paused' if paused else 'running'}."
        if paused:
            return "Paused: no action will run on any replica until `/opsbot resume`."
        return "Resumed: actions run again as the policy allows."

    # --- jobs ------------------------------------------------------------------------------

    def expire_stale(self) -> int:
        expired = approvals.expire_stale(self.parts)
        for action_id in expired:
            self.cards.refresh(action_id)
            found = self.cards.read(action_id)
            verdict = found[0].verdict if found else "RISKY"
            self.metrics.actions.labels(verdict, "expired").inc()
        return len(expired)

    def start(self, scheduler: Scheduler, pipeline: AlertIntake) -> None:
        """Schedule the jobs (one replica each) and start the watcher when enabled."""
        settings = self.settings
        scheduler.every(
            settings.expiry_check_seconds, "approval-expiry", self.expire_stale, singleton=True
        )
        scheduler.every(30, "escalation-resolve", self.escalator.resolve_finished, singleton=True)
        scheduler.every(15, "remediation-recovery", self.recover, singleton=True)
        self.run_later("remediation-recovery", self.recover)  # what a crash left behind
        scheduler.every(15, "approval-cards-catch-up", self.catch_up_cards, singleton=True)
        if self.audit.retention_days is not None:
            scheduler.every(3600, "audit-retention", self.archive_audit, singleton=True)
        api = self.catalog.api
        if settings.watcher_enabled and api is not None:
            book = ProblemBook(self.db, pipeline)
            scheduler.every(5, "watch-problems", book.flush, singleton=True)
            self.watcher = KubeWatcher(self.db, api, book, settings)
            self.watcher.start()

    def recover(self) -> None:
        """Finish what a dead process left: orphaned approvals run (or are blocked when
        stale), executions whose runner died are marked interrupted."""
        resume_approved(self.parts)
        self.executor.reap_interrupted()

    def archive_audit(self) -> None:
        """Move audit rows older than the retention to the archive directory."""
        days = self.audit.retention_days or 0
        archive(self.db, utcnow() - timedelta(days=days), Path(self.audit.archive_dir))

    def catch_up_cards(self) -> int:
        """Post or edit cards a crash or a Slack outage left behind."""
        with self.db.session() as session:
            ids = session.exec(
                select(ActionRecord.id).where(
                    or_(
                        col(ActionRecord.card_ts).is_(None),
                        col(ActionRecord.posted_version) < col(ActionRecord.card_version),
                    ),
                    col(ActionRecord.state) != ActionState.PROPOSED,
                )
            ).all()
        for action_id in ids:
            self.cards.refresh(action_id)
        return len(ids)

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
