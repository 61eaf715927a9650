"""Escalation to humans: mention the on-call group in the incident's thread and, when
configured, page through PagerDuty with the incident as the dedup key (resolved when the
incident resolves)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, select

from bot.audit import chain as audit
from bot.errors import DependencyDown, Retryable
from bot.logs import get_logger
from bot.remediation.pagerduty import PagerDuty
from bot.remediation.records import unit_of_work
from bot.settings import RemediationSettings
from bot.slack.text import escape
from bot.store.actions import ActionRecord, Escalation
from bot.store.db import Database
from bot.store.incidents import Incident
from bot.store.models import utcnow
from policies.actions import USERGROUP_ID

log = get_logger("opsbot.remediation.escalation")


def human_steps(rationale: dict[str, Any]) -> str:
    """The finding's advice for a human (its next steps), as the escalation's last words
    ("" when it gave none): the person paged is told what to do, not only what failed."""
    steps = [str(s)[:300] for s in rationale.get("next_steps") or [] if str(s).strip()]
    return (" What a human must do: " + escape("; ".join(steps))) if steps else ""


def dedup_key(incident_id: int | None, action_id: str) -> str:
    return f"opsbot-incident-{incident_id}" if incident_id is not None else f"opsbot-{action_id}"


@dataclass(frozen=True)
class SlackThread:
    """A Slack thread a proposal without an incident belongs to (a capacity review's)."""

    channel: str
    ts: str


def thread_of_record(record: ActionRecord) -> SlackThread | None:
    """The thread an action was proposed in, when it was given one."""
    if record.thread_channel and record.thread_ts:
        return SlackThread(record.thread_channel, record.thread_ts)
    return None


def thread_of(
    db: Database,
    incidents_channel: str,
    incident_id: int | None,
    thread: SlackThread | None = None,
) -> tuple[str, str | None]:
    """Where to speak about an action: the thread it was proposed in, else its incident's
    thread, else `incidents_channel`."""
    if thread is not None:
        return thread.channel, thread.ts
    if incident_id is not None:
        with db.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is not None and incident.thread_ts:
                return incident.channel, incident.thread_ts
    return incidents_channel, None


class Escalator:
    """Tells the humans when remediation cannot go on: a message in the action's thread
    (mentioning on-call) and, when a routing key is configured, a PagerDuty page."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        settings: RemediationSettings,
        incidents_channel: str,
    ) -> None:
        """`settings`: PagerDuty and the on-call group; `incidents_channel`: where to speak
        about an action that has no thread."""
        self.db = db
        self.client = client
        self.incidents_channel = incidents_channel
        self.oncall_group = settings.oncall_group
        key = settings.pagerduty_routing_key
        self.pager = (
            PagerDuty(settings.pagerduty_url, key.get_secret_value()) if key is not None else None
        )

    def oncall(self, approvers: tuple[str, ...]) -> str | None:
        configured = self.oncall_group
        if configured:
            return configured
        return next((a for a in approvers if USERGROUP_ID.match(a)), None)

    def escalate(
        self,
        incident_id: int | None,
        action_id: str,
        reason: str,
        *,
        approvers: tuple[str, ...] = (),
        summary: str = "",
        thread: SlackThread | None = None,
    ) -> bool:
        """Tell the humans; returns whether PagerDuty was paged."""
        group = self.oncall(approvers)
        mention = f"<!subteam^{group}> " if group else ""
        channel, thread_ts = thread_of(self.db, self.incidents_channel, incident_id, thread)
        try:
            self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=f":rotating_light: {mention}opsbot needs a human: {reason}",
            )
        except SlackApiError as exc:
            log.warning("escalation message failed", error=exc.response.get("error"))
        key = dedup_key(incident_id, action_id)
        paged = False
        if self.pager is not None:
            subject = f"incident #{incident_id}" if incident_id is not None else action_id
            try:
                self.pager.trigger(
                    key,
                    f"opsbot: {summary or reason}"[:1024],
                    source=f"opsbot/{subject}",
                    severity="critical",
                    at=utcnow(),
                    details={"reason": reason, "action": action_id, "incident": incident_id},
                )
                paged = True
            except (Retryable, DependencyDown) as exc:
                log.warning("PagerDuty trigger failed", error=str(exc))
        self._record(incident_id, action_id, key, reason, paged)
        return paged

    def _record(
        self, incident_id: int | None, action_id: str, key: str, reason: str, paged: bool
    ) -> None:
        def work(session: Session) -> None:
            row = session.exec(select(Escalation).where(Escalation.dedup_key == key)).first()
            if row is None:
                row = Escalation(incident_id=incident_id, dedup_key=key)
            row.reason, row.paged, row.resolved_at = reason[:1000], row.paged or paged, None
            session.add(row)
            audit.append(
                session,
                actor="opsbot",
                action="escalation.triggered",
                subject=f"incident:{incident_id}" if incident_id is not None else key,
                detail={"reason": reason, "paged": paged, "dedup_key": key, "action": action_id},
            )

        unit_of_work(self.db, work)

    def resolve_finished(self) -> int:
        """Resolve the pages of incidents that have resolved (a scheduled job)."""
        with self.db.session() as session:
            rows = session.exec(
                select(Escalation, Incident)
                .join(Incident, col(Incident.id) == col(Escalation.incident_id))
                .where(col(Escalation.resolved_at).is_(None), Incident.status == "resolved")
            ).all()
        done = 0
        for escalation, _incident in rows:
            if escalation.paged and self.pager is not None:
                try:
                    self.pager.resolve(escalation.dedup_key)
                except (Retryable, DependencyDown) as exc:
                    log.warning("PagerDuty resolve failed", error=str(exc))
                    continue
            self._mark_resolved(escalation.id or 0, escalation.dedup_key)
            done += 1
        return done

    def _mark_resolved(self, escalation_id: int, key: str) -> None:
        def work(session: Session) -> None:
            row = session.get(Escalation, escalation_id)
            if row is None or row.resolved_at is not None:
                return
            row.resolved_at = utcnow()
            session.add(row)
            audit.append(
                session,
                actor="opsbot",
                action="escalation.resolved",
                subject=f"incident:{row.incident_id}",
                detail={"dedup_key": key, "paged": row.paged},
            )

        unit_of_work(self.db, work)
