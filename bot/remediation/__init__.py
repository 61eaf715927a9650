"""The remediation layer: proposals become policy-checked, approved, executed, validated
(undone only when they make things worse; kept and escalated when they do not help)
actions, every step audited.

The hand-off from investigations is `propose(rt, incident_id, actions, finding_summary)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.remediation.proposals import ProposalOutcome, Rationale
from bot.remediation.records import ActionState
from policies import ProposedAction

if TYPE_CHECKING:
    from bot.runtime import Runtime


def propose(
    rt: Runtime,
    incident_id: int | None,
    actions: Sequence[ProposedAction],
    finding_summary: str,
    *,
    rationale: Rationale | None = None,
    validation_query: str | None = None,
) -> list[ProposalOutcome]:
    """Hand a finding's proposals to remediation; call it from a worker thread.

    Each action is measured on the live cluster (blast radius, labels), classified by the
    policy and the shared guards, recorded with an audit row, and shown as a card in the
    incident's thread: SAFE ones run at once (autonomous mode), RISKY ones wait for
    approval, FORBIDDEN ones are refused and escalated, shadow mode only logs. Proposals
    already open for the incident (same proposal id) are not repeated.

    `rationale` is what the audit log keeps of the AI's reasoning (model, tokens,
    confidence, evidence); `validation_query` is the PromQL to re-check after the action
    (default: the expression of the incident's alerts, else the workload's availability).
    """
    return rt.remediation.propose(
        incident_id,
        actions,
        finding_summary,
        rationale=rationale,
        validation_query=validation_query,
    )


__all__ = ["ActionState", "ProposalOutcome", "Rationale", "propose"]
