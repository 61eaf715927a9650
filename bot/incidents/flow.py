"""After an incident's first triage: investigate, post the finding, hand its proposals to
remediation (which classifies, asks for approval or runs them). The agent only proposes."""

from __future__ import annotations

from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import col, select

from bot.cache import Cache
from bot.incidents.own_fault import Elsewhere, FaultEvidence, held_back
from bot.incidents.proactive import Proposer
from bot.investigation.agent.finding import Investigation
from bot.investigation.agent.slack_answers import post_incident_finding
from bot.investigation.investigator import Investigator
from bot.logs import get_logger
from bot.remediation import Rationale
from bot.slack.outbox import Paces
from bot.slack.posting import post_key
from bot.slack.text import escape
from bot.store.db import Database
from bot.store.incidents import Incident, IncidentEvent
from bot.store.models import aware, utcnow
from policies import ProposedAction

log = get_logger("opsbot.incidents.flow")
HELD = "action_held"


def rationale_of(investigation: Investigation) -> Rationale:
    """What the audit log keeps of the reasoning behind a finding's proposals."""
    finding = investigation.finding
    return Rationale(
        summary=finding.summary,
        root_cause=finding.root_cause,
        confidence=finding.confidence,
        evidence=[f"{e.tool}: {e.query}" for e in finding.evidence][:20],
        engine=investigation.engine.value,
        model=investigation.model,
        input_tokens=investigation.usage.input_tokens,
        output_tokens=investigation.usage.output_tokens,
        rule=finding.rule,
        next_steps=finding.recommendations[:5],
    )


class IncidentFlow:
    """Investigate an incident and propose what its finding suggests; built by the
    composition root with the store, the evidence shelf, the investigator, remediation's
    proposer and the thread pacing. With `evidence`, an action on a workload whose own
    behaviour the traces clear is held back and the thread says why
    (`bot.incidents.own_fault`)."""

    def __init__(
        self,
        db: Database,
        shelf: Cache | None,
        client: WebClient,
        investigator: Investigator,
        proposer: Proposer,
        pace: Paces,
        evidence: FaultEvidence | None = None,
    ) -> None:
        self.db = db
        self.evidence = evidence
        self.shelf = shelf
        self.client = client
        self.investigator = investigator
        self.proposer = proposer
        self.pace = pace

    def investigate_and_propose(self, incident_id: int, *, once: bool = True) -> None:
        """Post the incident's finding in its thread, then propose its actions. `once`:
        skip when a finding was already posted (the Investigate button passes False)."""
        investigation = post_incident_finding(
            self.db,
            self.shelf,
            self.client,
            self.investigator,
            incident_id,
            once=once,
            pace=self.pace,
        )
        if investigation is None or not investigation.finding.proposals:
            return
        proposals = self._own_fault_only(incident_id, investigation.finding.proposals)
        if not proposals:
            return
        self.proposer.propose(
            incident_id,
            proposals,
            investigation.finding.summary,
            rationale=rationale_of(investigation),
        )

    def _own_fault_only(
        self, incident_id: int, proposals: list[ProposedAction]
    ) -> list[ProposedAction]:
        """`proposals` less the workload actions whose target is not at fault (each said
        in the thread and kept on the timeline)."""
        if self.evidence is None:
            return proposals
        now = utcnow()
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                return proposals
            opened_at = aware(incident.opened_at)
            others = session.exec(
                select(Incident).where(
                    Incident.id != incident_id,
                    col(Incident.status) != "resolved",
                    Incident.namespace == incident.namespace,
                )
            ).all()
            incidents = {o.service: o.id or 0 for o in others if o.service}
            channel, thread_ts = incident.channel, incident.thread_ts
        held = held_back(proposals, self.evidence, incidents, opened_at, now)
        for action, why in held:
            self._say_held(incident_id, channel, thread_ts, action, why, now)
        dropped = {id(action) for action, _ in held}
        return [p for p in proposals if id(p) not in dropped]

    def _say_held(
        self,
        incident_id: int,
        channel: str,
        thread_ts: str | None,
        action: ProposedAction,
        why: Elsewhere,
        now: datetime,
    ) -> None:
        target = f"{action.target.kind}/{action.target.namespace}/{action.target.name}"
        text = f"Not proposing {action.kind} on {target}: {why.because()}"
        log.info("action held back", incident=incident_id, kind=action.kind, target=target)
        with self.db.session() as session:
            session.add(
                IncidentEvent(
                    incident_id=incident_id,
                    kind=HELD,
                    at=now,
                    text=text[:500],
                    detail={"kind": str(action.kind), "target": target, "origin": why.origin},
                )
            )
        if not thread_ts:
            return
        try:
            self.pace(
                channel,
                lambda: self.client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts,
                    text=f":no_entry_sign: {escape(text)}",
                    metadata=post_key("incident", incident_id, f"held-{action.id}"),
                ),
            )
        except SlackApiError as exc:  # the timeline still keeps it
            log.warning("held action not posted", incident=incident_id, error=str(exc)[:200])
