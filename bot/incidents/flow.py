"""After an incident's first triage: investigate, post the finding, hand its proposals to
remediation (which classifies, asks for approval or runs them). The agent only proposes."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.cache import Cache
from bot.incidents.proactive import Proposer
from bot.investigation.agent.finding import Investigation
from bot.investigation.agent.slack_answers import post_incident_finding
from bot.investigation.investigator import Investigator
from bot.remediation import Rationale
from bot.slack.outbox import Paces
from bot.store.db import Database


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
    )


class IncidentFlow:
    """Investigate an incident and propose what its finding suggests; built by the
    composition root with the store, the evidence shelf, the investigator, remediation's
    proposer and the thread pacing."""

    def __init__(
        self,
        db: Database,
        shelf: Cache | None,
        client: WebClient,
        investigator: Investigator,
        proposer: Proposer,
        pace: Paces,
    ) -> None:
        self.db = db
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
        self.proposer.propose(
            incident_id,
            investigation.finding.proposals,
            investigation.finding.summary,
            rationale=rationale_of(investigation),
        )
