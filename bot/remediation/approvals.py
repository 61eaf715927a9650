"""Approve, deny and expire pending actions. The server is the source of truth: a click
carries only the action id; who may approve, how many approvals it takes and whether the
action is still allowed are decided here, at click time, from the store and the policy."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from sqlmodel import Session, col, select

from bot.audit import chain as audit
from bot.remediation.blocks import who
from bot.remediation.parts import Parts
from bot.remediation.proposals import plan_and_decide
from bot.remediation.records import ActionState, transition, unit_of_work
from bot.slack.text import code
from bot.store.actions import ACTION_ID_MAX, ActionApproval, ActionRecord, plausible_action_id
from bot.store.models import aware, utcnow
from policies import Disposition, ProposedAction, Verdict


@dataclass(frozen=True)
class ClickResult:
    """What to tell the clicker (ephemeral) and whether the action should run now."""

    message: str
    execute: bool = False
    refused: bool = False
    escalation: str = ""


def _already(record: ActionRecord) -> str:
    by = f" by {record.decided_by}" if record.decided_by else ""
    return f"Action `{record.id}` is already {record.state.replace('_', ' ')}{by}."


NO_SUCH_ACTION = "There is no such action: this button does not name one."


def _precheck(svc: Parts, record: ActionRecord | None, action_id: str, user: str) -> str:
    """Why this click cannot approve, before asking the policy ("" when it may go on)."""
    if record is None:
        return f"There is no action {code(action_id[:ACTION_ID_MAX])}."
    if record.state != ActionState.PENDING:
        return _already(record)
    if record.expires_at is not None and aware(record.expires_at) <= utcnow():
        expire(svc, action_id, by="opsbot")
        return (
            f"This approval request expired at {aware(record.expires_at):%H:%M UTC}; "
            "nothing was done. Ask for a new proposal if it is still needed."
        )
    if user == record.proposer:
        return "You proposed this action, so someone else has to approve it."
    return ""


def approvers_text(approvers: list[str] | tuple[str, ...]) -> str:
    """Approvers as Slack handles (`<!subteam^S…>`, `<@U…>`); anything that is not a real
    id is shown as escaped text, never as a mention."""
    return who(tuple(approvers))


def refusal_before_dialog(svc: Parts, action_id: str, user: str, button: str) -> str:
    """Why this person's click on Approve or Deny cannot go on, checked before any dialog
    opens ("" when it may). Deny is open to the approvers and to the proposer."""
    with svc.db.session() as session:
        record = session.get(ActionRecord, action_id)
    if record is None or record.state != ActionState.PENDING:
        return _precheck(svc, record, action_id, user)
    if record.expires_at is not None and aware(record.expires_at) <= utcnow():
        return _precheck(svc, record, action_id, user)
    if button == "approve":
        refusal = _precheck(svc, record, action_id, user) or _approved_already(svc, record, user)
        if refusal:
            return refusal
    elif user == record.proposer:
        return ""
    if svc.directory.is_member(user, record.approvers):
        return ""
    verb = "approve" if button == "approve" else "deny"
    return (
        f"You may not {verb} this action (rule `{record.rule}`): approvers are "
        f"{approvers_text(record.approvers)}."
    )


def _approved_already(svc: Parts, record: ActionRecord, user: str) -> str:
    """A second Approve from someone whose approval is already counted needs no dialog."""
    with svc.db.session() as session:
        mine = session.exec(
            select(ActionApproval).where(
                ActionApproval.action_id == record.id, ActionApproval.approver == user
            )
        ).first()
    if mine is None:
        return ""
    required = record.approvals_required
    return f"You already approved; it needs {required} different approvers."


def record_refusal(svc: Parts, action_id: str, user: str, button: str, why: str) -> None:
    """Every refused click is in the audit log: who, which button, why."""

    def work(session: Session) -> None:
        audit.append(
            session,
            actor=user,
            action="action.click_refused",
            subject=f"action:{action_id[:ACTION_ID_MAX]}",
            detail={"button": button, "reason": why[:500], "value": action_id[:200]},
        )

    unit_of_work(svc.db, work)


def approve(svc: Parts, action_id: str, user: str) -> ClickResult:
    if not plausible_action_id(action_id):
        return ClickResult(NO_SUCH_ACTION, refused=True)
    with svc.db.session() as session:
        record = session.get(ActionRecord, action_id)
    refusal = _precheck(svc, record, action_id, user)
    if refusal or record is None:
        return ClickResult(refusal, refused=True)
    # Things may have changed since the proposal: ask the policy again, with fresh facts.
    try:
        action = ProposedAction.model_validate(record.action)
    except ValidationError:  # stored by another version, or damaged: never guess
        why = "the stored action could not be read, so it cannot run; ask for a new proposal"
        _refuse(svc, action_id, user, why)
        return ClickResult(f"Not approved: {why}.", refused=True)
    _plan, plan_error, decision = plan_and_decide(svc, action, utcnow())
    if decision.verdict is Verdict.FORBIDDEN or plan_error is not None:
        why = plan_error or f"the policy now says FORBIDDEN ({decision.rule}): {decision.reason}"
        _refuse(svc, action_id, user, why)
        return ClickResult(f"Not approved: {why}", refused=True, escalation=why)
    approvers = record.approvers
    required = record.approvals_required
    if decision.disposition is Disposition.REQUEST_APPROVAL:
        approvers = list(decision.approvers)
        required = max(required, decision.approvals_required)
    if not svc.directory.is_member(user, approvers):
        return ClickResult(
            f"You may not approve this action (rule `{decision.rule}`): approvers are "
            f"{approvers_text(approvers)}.",
            refused=True,
        )
    return _count_approval(svc, action_id, user, required, decision.rule)


def _count_approval(svc: Parts, action_id: str, user: str, required: int, rule: str) -> ClickResult:
    def work(session: Session) -> ClickResult:
        record = session.get(ActionRecord, action_id, populate_existing=True)
        if record is None or record.state != ActionState.PENDING:
            return ClickResult(_already(record) if record else "Gone.", refused=True)
        mine = session.exec(
            select(ActionApproval).where(
                ActionApproval.action_id == action_id, ActionApproval.approver == user
            )
        ).first()
        if mine is not None:
            return ClickResult(
                f"You already approved; it needs {required} different approvers.", refused=True
            )
        session.add(ActionApproval(action_id=action_id, approver=user, at=utcnow()))
        session.flush()
        approvers = list(
            session.exec(
                select(ActionApproval.approver)
                .where(ActionApproval.action_id == action_id)
                .order_by(col(ActionApproval.at))
            ).all()
        )
        if len(approvers) < required:
            audit.append(
                session,
                actor=user,
                action="action.approval_recorded",
                subject=f"action:{action_id}",
                rule=rule,
                detail={"approvals": approvers, "required": required},
            )
            record.card_version += 1
            session.add(record)
            return ClickResult(
                f"Approval recorded ({len(approvers)} of {required}); waiting for another approver."
            )
        moved = transition(
            session,
            action_id,
            [ActionState.PENDING],
            ActionState.APPROVED,
            actor=user,
            detail={"approvers": approvers, "required": required},
            decided_by=",".join(approvers),
            decided_at=utcnow(),
            approvals_required=required,
        )
        if moved is None:
            return ClickResult("Someone else decided first.", refused=True)
        return ClickResult(
            "Approved. opsbot runs it now (dry run first); the card shows how it goes.",
            execute=True,
        )

    return unit_of_work(svc.db, work)


def deny(svc: Parts, action_id: str, user: str, reason: str) -> ClickResult:
    if not plausible_action_id(action_id):
        return ClickResult(NO_SUCH_ACTION, refused=True)
    with svc.db.session() as session:
        record = session.get(ActionRecord, action_id)
    if record is None:
        return ClickResult(f"There is no action {code(action_id)}.", refused=True)
    if record.state != ActionState.PENDING:
        return ClickResult(_already(record), refused=True)
    if user != record.proposer and not svc.directory.is_member(user, record.approvers):
        return ClickResult(
            f"Only an approver ({approvers_text(record.approvers)}) or the proposer may deny it.",
            refused=True,
        )
    reason = reason.strip() or "(no reason given)"

    def work(session: Session) -> bool:
        return (
            transition(
                session,
                action_id,
                [ActionState.PENDING],
                ActionState.DENIED,
                actor=user,
                detail={"reason": reason},
                decided_by=user,
                decided_at=utcnow(),
                deny_reason=reason[:2000],
            )
            is not None
        )

    if not unit_of_work(svc.db, work):
        return ClickResult("Someone else decided first.", refused=True)
    svc.metrics.actions.labels(record.verdict, "denied").inc()
    return ClickResult("Denied; nothing will run.")


def _refuse(svc: Parts, action_id: str, user: str, why: str) -> None:
    def work(session: Session) -> None:
        transition(
            session,
            action_id,
            [ActionState.PENDING],
            ActionState.REFUSED,
            actor=user,
            detail={"reason": why, "at": "approval"},
            decided_by="policy",
            decided_at=utcnow(),
            outcome={"lines": [f"Refused at approval: {why}"]},
        )

    unit_of_work(svc.db, work)


def expire(svc: Parts, action_id: str, by: str = "scheduler") -> bool:
    def work(session: Session) -> bool:
        return (
            transition(
                session,
                action_id,
                [ActionState.PENDING],
                ActionState.EXPIRED,
                actor=by,
                outcome={"lines": ["Nobody approved it in time."]},
                decided_at=utcnow(),
            )
            is not None
        )

    return unit_of_work(svc.db, work)


def expire_stale(svc: Parts) -> list[str]:
    """Expire every pending action past its expiry (a scheduled job); returns their ids."""
    now = utcnow()
    with svc.db.session() as session:
        ids = session.exec(
            select(ActionRecord.id).where(
                ActionRecord.state == ActionState.PENDING,
                col(ActionRecord.expires_at) <= now,
            )
        ).all()
    return [action_id for action_id in ids if expire(svc, action_id)]
