"""The approval card of each action in Slack, kept in step with its record.

Each state change bumps `card_version`; `refresh` posts or edits the card until the posted
version catches up, under a lease so two replicas never interleave edits of one card.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import col, select

from bot import leases
from bot.logs import get_logger
from bot.remediation.blocks import ActionCard, approval_card, card_text
from bot.remediation.escalation import thread_of, thread_of_record
from bot.store.actions import ActionApproval, ActionRecord, plausible_action_id
from bot.store.db import Database
from bot.store.incidents import Incident
from bot.store.models import aware

log = get_logger("opsbot.remediation.cards")
LEASE_TTL = 20.0


def card_of(record: ActionRecord, approvals: list[str]) -> ActionCard:
    action = record.action
    rationale = record.rationale
    return ActionCard(
        action_id=record.id,
        kind=record.kind,
        target=record.target,
        params={k: v for k, v in (action.get("params") or {}).items() if v is not None},
        reason=str(action.get("reason", "")),
        summary=record.summary,
        evidence=tuple(str(e) for e in rationale.get("evidence", [])),
        confidence=float(action.get("confidence", 0.0)),
        blast=record.blast_radius,
        verdict=record.verdict,
        rule=record.rule,
        rule_reason=str(record.decision.get("reason", "")),
        state=record.state,
        proposer=record.proposer,
        approvals_required=record.approvals_required,
        approvers=tuple(record.approvers),
        approvals=tuple(approvals),
        expires_at=aware(record.expires_at) if record.expires_at else None,
        decided_by=record.decided_by,
        decided_at=aware(record.decided_at) if record.decided_at else None,
        deny_reason=record.deny_reason,
        outcome=tuple(str(line) for line in record.outcome.get("lines", [])),
        engine=rationale.get("engine"),
    )


class Cards:
    """Posts and edits action cards; each state shown also refreshes the incident header
    (through `on_incident_change`: the notifier's request, handed in by the composition
    root)."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        incidents_channel: str,
        on_incident_change: Callable[[int], None] | None = None,
    ) -> None:
        """`incidents_channel`: where a card goes when its action has no thread."""
        self.db = db
        self.incidents_channel = incidents_channel
        self.client = client
        self.on_incident_change = on_incident_change
        self._listeners: list[Callable[[str], None]] = []
        self._listeners_lock = threading.Lock()

    def listen(self, listener: Callable[[str], None]) -> None:
        """Call `listener(action_id)` after each card this process shows (a state change);
        for messages that summarise several actions, such as the capacity review's."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def unlisten(self, listener: Callable[[str], None]) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def read(self, action_id: str) -> tuple[ActionRecord, ActionCard] | None:
        with self.db.session() as session:
            record = session.get(ActionRecord, action_id)
            if record is None:
                return None
            approvals = session.exec(
                select(ActionApproval.approver)
                .where(ActionApproval.action_id == action_id)
                .order_by(col(ActionApproval.at))
            ).all()
        return record, card_of(record, list(approvals))

    def refresh(self, action_id: str) -> bool:
        """Post or edit the card until it shows the record's latest state (False when
        `action_id` cannot name an action: there is no card to show)."""
        if not plausible_action_id(action_id):
            return False
        name = f"action-card:{action_id}"
        with leases.held(self.db, name, LEASE_TTL) as token:
            if token is None:
                return False
            for _ in range(5):
                found = self.read(action_id)
                if found is None:
                    return False
                record, card = found
                if record.card_ts is not None and record.posted_version >= record.card_version:
                    return True
                try:
                    self._show(record, card)
                except SlackApiError as exc:
                    log.warning("card update failed", action=action_id, error=str(exc))
                    return False
                leases.acquire(self.db, name, LEASE_TTL, token)
        return True

    def _show(self, record: ActionRecord, card: ActionCard) -> None:
        blocks = approval_card(card)
        if record.card_ts is None or record.card_channel is None:
            channel, thread_ts = thread_of(
                self.db, self.incidents_channel, record.incident_id, thread_of_record(record)
            )
            posted = self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=card_text(card), blocks=blocks
            )
            self._saved(record.id, str(posted["channel"]), str(posted["ts"]), record.card_version)
            return
        self.client.chat_update(
            channel=record.card_channel, ts=record.card_ts, text=card_text(card), blocks=blocks
        )
        self._saved(record.id, record.card_channel, record.card_ts, record.card_version)

    def _saved(self, action_id: str, channel: str, ts: str, version: int) -> None:
        with self.db.session() as session:
            record = session.get(ActionRecord, action_id)
            if record is None:
                return
            record.card_channel, record.card_ts = channel, ts
            record.posted_version = max(record.posted_version, version)
            session.add(record)
            incident = session.get(Incident, record.incident_id) if record.incident_id else None
            if incident is not None:
                incident.header_version += 1
                session.add(incident)
        if incident is not None and incident.id is not None and self.on_incident_change:
            self.on_incident_change(incident.id)
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(action_id)
