"""The remediation layer: proposals become policy-checked, approved, executed, validated
(undone only when they make things worse; kept and escalated when they do not help)
actions, every step audited.

The hand-off from findings is `Remediation.propose` (`bot.remediation.service`), which the
composition root hands to whoever proposes (the incident flow, the capacity scan).
"""

from __future__ import annotations

from bot.remediation.proposals import ProposalOutcome, Rationale
from bot.remediation.records import ActionState

__all__ = ["ActionState", "ProposalOutcome", "Rationale"]
