"""After an incident's first triage: investigate, post the finding, hand its proposals to
remediation (which classifies, asks for approval or runs them). The agent only proposes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.investigation.agent.finding import Investigation
from bot.investigation.agent.slack_answers import post_incident_finding
from bot.remediation import Rationale, propose

if TYPE_CHECKING:
    from bot.app.runtime import Runtime


def rationale_of(investigation: Investigation) -> Rationale:
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


def investigate_and_propose(rt: Runtime, incident_id: int, *, once: bool = True) -> None:
    investigation = post_incident_finding(
        rt.deps, rt.client, rt.investigator, incident_id, once=once, pace=rt.notifier.paced
    )
    if investigation is None or not investigation.finding.proposals:
        return
    propose(
        rt,
        incident_id,
        investigation.finding.proposals,
        investigation.finding.summary,
        rationale=rationale_of(investigation),
    )
