"""What happens after validation: keep the change, undo it, and whether humans are called.

Only "worse" undoes an action (a signal clearly worse than before, or a new failure the
action caused). "Not recovered" keeps the change: undoing something that did not help
would only bring back the state that raised the incident. And some undos are never run
even when things got worse: the inverse of a rollback re-deploys the revision it left,
so when that revision was failing (the signals were not clear before the action) the
rollback stays and a human decides: opsbot never re-runs a failed image.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.remediation.records import ActionState
from bot.remediation.validation import Health
from policies import ActionKind

REDEPLOYS = frozenset({ActionKind.ROLLBACK_DEPLOYMENT})
"""Kinds whose inverse puts a previous pod template (its images) back."""


@dataclass(frozen=True)
class Aftermath:
    """The decision: `undo` the action (then ROLLED_BACK) or end in `state`; `escalate`
    tells the on-call; `line` says why, for the card and the audit log."""

    state: ActionState
    undo: bool
    escalate: bool
    line: str


def after_validation(
    health: Health, *, kind: ActionKind, has_inverse: bool, failing_before: bool
) -> Aftermath:
    """Decide from the verdict, the action's kind, whether it has an inverse and whether the
    signals showed a failure before it ran."""
    if health is Health.RECOVERED:
        return Aftermath(ActionState.SUCCEEDED, undo=False, escalate=False, line="Recovered.")
    if health is Health.NOT_RECOVERED:
        return Aftermath(
            ActionState.NOT_RECOVERED,
            undo=False,
            escalate=True,
            line=(
                "Not recovered by the deadline, but not worse either: the change is kept "
                "(undoing it would bring back what raised the incident). A human should look."
            ),
        )
    if not has_inverse:
        return Aftermath(
            ActionState.FAILED,
            undo=False,
            escalate=True,
            line=f"Worse, and {kind} has no inverse: nothing was undone.",
        )
    if kind in REDEPLOYS and failing_before:
        return Aftermath(
            ActionState.FAILED,
            undo=False,
            escalate=True,
            line=(
                "Worse, but not undone: undoing would re-deploy the revision that was "
                "failing before the rollback (opsbot never re-runs a failed image)."
            ),
        )
    return Aftermath(
        ActionState.ROLLED_BACK, undo=True, escalate=True, line="Worse: undoing the action."
    )
