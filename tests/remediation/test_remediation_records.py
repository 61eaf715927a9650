"""The action state machine: legal moves only, and each move commits with its audit row."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.audit import chain as audit
from bot.remediation.records import ActionState, IllegalMove, check_move, transition
from bot.store.actions import ActionRecord
from bot.store.db import Database
from bot.store.models import AuditEvent


def pending_record(db: Database) -> str:
    with db.session() as session:
        session.add(
            ActionRecord(
                id="act-1",
                proposal_id="p1",
                kind="restart_deployment",
                namespace="prod",
                target="deployment/prod/checkout",
                action={},
                state=ActionState.PENDING,
                verdict="RISKY",
                rule="restart-prod",
                disposition="request_approval",
                proposer="agent",
            )
        )
    return "act-1"


def test_a_state_change_and_its_audit_row_commit_or_roll_back_together(db: Database) -> None:
    action_id = pending_record(db)

    def approve_then_crash() -> None:
        with db.session() as session:
            moved = transition(
                session, action_id, [ActionState.PENDING], ActionState.APPROVED, actor="U0BOB"
            )
            assert moved is not None
            raise RuntimeError("the process died before commit")

    with pytest.raises(RuntimeError):
        approve_then_crash()
    with db.session() as session:
        assert session.get(ActionRecord, action_id).state == ActionState.PENDING  # type: ignore[union-attr]
        assert session.exec(select(AuditEvent)).all() == []

    with db.session() as session:
        moved = transition(
            session, action_id, [ActionState.PENDING], ActionState.APPROVED, actor="U0BOB"
        )
        assert moved is not None
    with db.session() as session:
        [row] = session.exec(select(AuditEvent)).all()
        assert (row.actor, row.action, row.subject, row.rule) == (
            "U0BOB",
            "action.approved",
            "action:act-1",
            "restart-prod",
        )
        assert audit.verify_chain(session) == (1, None)


def test_a_transition_from_a_state_already_left_changes_nothing(db: Database) -> None:
    action_id = pending_record(db)
    with db.session() as session:
        assert transition(
            session, action_id, [ActionState.PENDING], ActionState.DENIED, actor="U0A1"
        )
    with db.session() as session:
        late = transition(
            session, action_id, [ActionState.PENDING], ActionState.APPROVED, actor="U0B2"
        )
        assert late is None
    with db.session() as session:
        assert [e.action for e in session.exec(select(AuditEvent))] == ["action.denied"]


def test_the_state_machine_refuses_skipping_steps() -> None:
    check_move(ActionState.APPROVED, ActionState.EXECUTING)
    with pytest.raises(IllegalMove):
        check_move(ActionState.PENDING, ActionState.SUCCEEDED)
    with pytest.raises(IllegalMove):
        check_move(ActionState.SUCCEEDED, ActionState.EXECUTING)
    assert ActionState.ROLLED_BACK.terminal
    assert not ActionState.PENDING.terminal
