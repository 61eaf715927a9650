"""From a finding's proposals to action records: measure, classify, guard, record, show.

Each proposal is planned against the live cluster (blast radius, labels), evaluated by the
policy, adjusted by the guards (kill switch, open breakers), then recorded with its audit
row in one transaction and moved to what the decision says: pending approval, approved
(SAFE, runs at once), shadowed (logged only), refused (FORBIDDEN: escalated) or blocked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from bot.audit import chain as audit
from bot.remediation.escalation import SlackThread
from bot.remediation.operation import ActionError, Plan
from bot.remediation.parts import Parts
from bot.remediation.records import ActionState, transition, unit_of_work
from bot.slack.text import escape
from bot.store.actions import ActionRecord
from bot.store.models import utcnow
from policies import (
    Decision,
    Disposition,
    EvaluationContext,
    ProposedAction,
    Verdict,
    evaluate,
)

OPEN_STATES = (ActionState.PENDING, ActionState.APPROVED, ActionState.EXECUTING)
# settled by an answer that a repeat of the same proposal would get again
ANSWERED_STATES = (ActionState.DENIED, ActionState.SHADOWED)


class Rationale(BaseModel):
    """Why the action was proposed, as the audit log keeps it (the AI's reasoning)."""

    summary: str = ""
    root_cause: str = ""
    confidence: float | None = None
    evidence: list[str] = Field(default_factory=list)
    engine: str | None = Field(None, description="claude | pattern")
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    rule: str | None = Field(None, description="The pattern rule, when the pattern engine spoke.")
    next_steps: list[str] = Field(
        default_factory=list,
        description="The finding's advice outside the action set (what a human must do); an "
        "escalation names it.",
    )


@dataclass(frozen=True)
class ProposalOutcome:
    action_id: str
    proposal_id: str
    state: ActionState
    verdict: str
    rule: str
    note: str = ""


@dataclass(frozen=True)
class Classified:
    plan: Plan | None
    decision: Decision
    state: ActionState
    note: str
    plan_error: str | None = None


def new_action_id() -> str:
    """A fresh action id (`act-` and 12 hex digits)."""
    return f"act-{uuid.uuid4().hex[:12]}"


def plan_and_decide(
    svc: Parts, action: ProposedAction, now: datetime
) -> tuple[Plan | None, str | None, Decision]:
    """Measure the action on the live cluster and let the policy decide (no database)."""
    plan: Plan | None = None
    plan_error: str | None = None
    try:
        plan = svc.catalog.plan(action)
    except ActionError as exc:
        plan_error = str(exc)
    context = EvaluationContext(
        now=now,
        namespace_labels=plan.namespace_labels if plan else None,
        target_labels=plan.target_labels if plan else None,
    )
    return plan, plan_error, evaluate(plan.action if plan else action, context, svc.policy)


_STATES = {
    Disposition.LOG_ONLY: ActionState.SHADOWED,
    Disposition.REFUSE: ActionState.REFUSED,
    Disposition.REQUEST_APPROVAL: ActionState.PENDING,
    Disposition.EXECUTE: ActionState.APPROVED,
}


def guard(
    svc: Parts,
    session: Session,
    action: ProposedAction,
    planned: tuple[Plan | None, str | None, Decision],
    now: datetime,
) -> Classified:
    """Apply the shared guards to the decision: the kill switch and open breakers."""
    plan, plan_error, decision = planned
    state = _STATES[decision.disposition]
    if plan_error is not None and state is not ActionState.SHADOWED:
        return Classified(
            plan, decision, ActionState.REFUSED, f"cannot act: {plan_error}", plan_error
        )
    control = svc.guards.control(session)
    if control.paused and state in (ActionState.PENDING, ActionState.APPROVED):
        who = f"<@{control.changed_by}>" if control.changed_by else "an operator"
        return Classified(plan, decision, ActionState.BLOCKED, f"opsbot is paused by {who}")
    if state is not ActionState.APPROVED:
        return Classified(plan, decision, state, "", plan_error)
    opened = svc.guards.open_breakers(session, action.kind, now)
    if not opened:
        return Classified(plan, decision, state, "", plan_error)
    reasons = "; ".join(view.describe() for view in opened)
    defaults = svc.policy.defaults
    if not defaults.approvers:
        note = f"circuit breaker open ({reasons}) and nobody may approve"
        return Classified(plan, decision, ActionState.REFUSED, note)
    note = f"circuit breaker open ({reasons}): needs approval"
    decision = decision.model_copy(
        update={
            "disposition": Disposition.REQUEST_APPROVAL,
            "approvers": defaults.approvers,
            "approvals_required": defaults.approvals_required,
            "reason": f"{decision.reason} Circuit breaker open ({reasons}): needs approval.",
        }
    )
    return Classified(plan, decision, ActionState.PENDING, note)


def _existing(session: Session, incident_id: int | None, action: ProposedAction) -> str | None:
    """The proposal this one repeats, so it gets no second card (or page).

    Open ones: the same id, or, inside an incident, the same action on the same target
    (the capacity scan's expand_volume and the investigation's must not become two cards
    with two sizes: the first one stands). Settled ones, inside an incident: the same id
    when the answer cannot have changed — a human denied it, shadow mode logged it, or the
    policy forbade it — so a re-scan every hour does not page again for what was refused.
    A proposal refused by a guard (breaker, rate limit) or one that ran may come again.
    """
    same_id = col(ActionRecord.proposal_id) == action.id
    open_now: ColumnElement[bool] = and_(same_id, col(ActionRecord.state).in_(OPEN_STATES))
    if incident_id is not None:
        same_target = and_(
            col(ActionRecord.kind) == action.kind.value,
            col(ActionRecord.target) == str(action.target),
        )
        answered = or_(
            col(ActionRecord.state).in_(ANSWERED_STATES),
            and_(
                col(ActionRecord.state) == ActionState.REFUSED.value,
                col(ActionRecord.verdict) == Verdict.FORBIDDEN.value,
            ),
        )
        open_now = or_(
            and_(or_(same_id, same_target), col(ActionRecord.state).in_(OPEN_STATES)),
            and_(same_id, answered),
        )
    return session.exec(
        select(ActionRecord.id).where(open_now, ActionRecord.incident_id == incident_id)
    ).first()


def record_one(
    svc: Parts,
    incident_id: int | None,
    action: ProposedAction,
    summary: str,
    rationale: Rationale,
    validation_query: str | None,
    thread: SlackThread | None = None,
) -> ProposalOutcome:
    """Classify and record one proposal in one transaction (retried whole on a race);
    `thread` is where its card goes when it belongs to no incident."""

    now = utcnow()
    planned = plan_and_decide(svc, action, now)

    def work(session: Session) -> ProposalOutcome:
        existing = _existing(session, incident_id, action)
        if existing is not None:
            row = session.get(ActionRecord, existing)
            assert row is not None
            return ProposalOutcome(
                existing, action.id, ActionState(row.state), row.verdict, row.rule, "duplicate"
            )
        found = guard(svc, session, action, planned, now)
        decision, plan = found.decision, found.plan
        measured = plan.action if plan else action
        record = ActionRecord(
            id=new_action_id(),
            proposal_id=action.id,
            incident_id=incident_id,
            kind=action.kind,
            namespace=action.target.namespace or "",
            target=str(action.target),
            action=measured.model_dump(mode="json"),
            state=ActionState.PROPOSED,
            verdict=decision.verdict,
            rule=decision.rule,
            disposition=decision.disposition,
            decision=decision.model_dump(mode="json"),
            approvers=list(decision.approvers),
            approvals_required=decision.approvals_required,
            proposer=action.proposer,
            summary=summary[:4000],
            rationale=rationale.model_dump(mode="json"),
            blast_radius=measured.blast_radius.model_dump(mode="json"),
            validation_query=validation_query,
            thread_channel=thread.channel if thread else None,
            thread_ts=thread.ts if thread else None,
            created_at=now,
            outcome={"lines": [found.note] if found.note else []},
        )
        session.add(record)
        session.flush()
        audit.append(
            session,
            actor=action.proposer,
            action="action.proposed",
            subject=f"action:{record.id}",
            rule=decision.rule,
            detail=_proposal_detail(record, action, found, rationale),
        )
        values: dict[str, Any] = {}
        if found.state is ActionState.PENDING:
            values["expires_at"] = now + decision.approval_expiry
        if found.state is ActionState.APPROVED:
            values.update(decided_by=f"policy:{decision.rule}", decided_at=now)
        transition(
            session,
            record.id,
            [ActionState.PROPOSED],
            found.state,
            actor="opsbot",
            detail={"verdict": decision.verdict, "note": found.note},
            **values,
        )
        return ProposalOutcome(
            record.id, action.id, found.state, decision.verdict, decision.rule, found.note
        )

    return unit_of_work(svc.db, work)


def _proposal_detail(
    record: ActionRecord, action: ProposedAction, found: Classified, rationale: Rationale
) -> dict[str, Any]:
    return {
        "target": record.target,
        "kind": record.kind,
        "params": record.action.get("params", {}),
        "reason": action.reason,
        "confidence": action.confidence,
        "blast_radius": record.blast_radius,
        "estimated_blast_radius": action.blast_radius.model_dump(mode="json"),
        "decision": record.decision,
        "facts": found.plan.facts if found.plan else {},
        "plan_error": found.plan_error,
        "rationale": rationale.model_dump(mode="json"),
        "incident": record.incident_id,
    }


def low_confidence(svc: Parts, action: ProposedAction) -> bool:
    return action.confidence < svc.policy.confidence_floor


def forbidden_handover(action: ProposedAction, rule: str | None) -> str:
    """The escalation of a proposal the policy forbids opsbot: the finding still holds, so
    the step goes to a human who may take it (named exactly, with the finding's reason,
    escaped: it may quote logs), instead of only saying what was refused."""
    why = f" ({escape(action.reason[:300])})" if action.reason.strip() else ""
    return (
        f"{action.kind} on {action.target} is FORBIDDEN to opsbot by rule {rule}, so opsbot "
        f"will not do it. For a human who may: {action.kind} on {action.target}{why}."
    )


def needs_escalation(svc: Parts, outcome: ProposalOutcome, action: ProposedAction) -> str:
    """Why this proposal needs a human's attention now ("" when it does not)."""
    if outcome.note == "duplicate":
        return ""
    if outcome.state is ActionState.REFUSED and outcome.verdict == Verdict.FORBIDDEN:
        return forbidden_handover(action, outcome.rule)
    if outcome.state is ActionState.REFUSED:
        return f"{action.kind} on {action.target} was refused: {outcome.note}"
    if low_confidence(svc, action):
        return (
            f"the finding behind {action.kind} on {action.target} has low confidence "
            f"({action.confidence:.0%} < {svc.policy.confidence_floor:.0%})"
        )
    return ""
