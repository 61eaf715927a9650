"""The ActionRecord state machine: allowed moves, and atomic transitions audited in the
same transaction as the state change."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random

from bot.audit import chain as audit
from bot.store.actions import ActionRecord
from bot.store.db import Database

T = TypeVar("T")


class ActionState(StrEnum):
    PROPOSED = "proposed"
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    REFUSED = "refused"
    SHADOWED = "shadowed"
    BLOCKED = "blocked"
    EXECUTING = "executing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    NOT_RECOVERED = "not_recovered"  # applied and kept, but the signals did not clear

    @property
    def terminal(self) -> bool:
        return self not in MOVES or not MOVES[self]


MOVES: dict[ActionState, frozenset[ActionState]] = {
    ActionState.PROPOSED: frozenset(
        {
            ActionState.PENDING,
            ActionState.APPROVED,
            ActionState.REFUSED,
            ActionState.SHADOWED,
            ActionState.BLOCKED,
        }
    ),
    ActionState.PENDING: frozenset(
        {ActionState.APPROVED, ActionState.DENIED, ActionState.EXPIRED, ActionState.REFUSED}
    ),
    ActionState.APPROVED: frozenset({ActionState.EXECUTING, ActionState.BLOCKED}),
    ActionState.EXECUTING: frozenset(
        {
            ActionState.SUCCEEDED,
            ActionState.FAILED,
            ActionState.ROLLED_BACK,
            ActionState.NOT_RECOVERED,
        }
    ),
}
ATTEMPTED = (
    ActionState.SUCCEEDED,
    ActionState.FAILED,
    ActionState.ROLLED_BACK,
    ActionState.NOT_RECOVERED,
)
"""Finished executions: what circuit breakers count."""
FAILURES = (ActionState.FAILED, ActionState.ROLLED_BACK, ActionState.NOT_RECOVERED)
STARTED = (ActionState.EXECUTING, *ATTEMPTED)
"""Executions that began: what rate limits count."""


class IllegalMove(ValueError):
    """A transition the state machine does not allow (a programming error)."""


def check_move(source: ActionState, target: ActionState) -> None:
    if target not in MOVES.get(source, frozenset()):
        raise IllegalMove(f"an action cannot move from {source} to {target}")


def transition(
    session: Session,
    action_id: str,
    sources: Iterable[ActionState],
    target: ActionState,
    *,
    actor: str,
    detail: dict[str, Any] | None = None,
    **values: Any,
) -> ActionRecord | None:
    """Move the record to `target` if it is in one of `sources`; None if it was not (someone
    else moved it first). The audit row is written in the caller's transaction."""
    allowed = list(sources)
    for source in allowed:
        check_move(source, target)
    moved = session.execute(
        update(ActionRecord)
        .where(col(ActionRecord.id) == action_id, col(ActionRecord.state).in_(allowed))
        .values(state=target, card_version=ActionRecord.card_version + 1, **values)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        return None
    record = session.get(ActionRecord, action_id, populate_existing=True)
    assert record is not None
    audit.append(
        session,
        actor=actor,
        action=f"action.{target}",
        subject=f"action:{action_id}",
        detail={"target": record.target, "kind": record.kind, **(detail or {})},
        rule=record.rule,
    )
    return record


@retry(
    retry=retry_if_exception_type((IntegrityError, OperationalError)),
    stop=stop_after_attempt(20),
    wait=wait_random(0.005, 0.1),
    reraise=True,
)
def unit_of_work(db: Database, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction; retried whole when another writer won a race (the
    audit chain's unique prev_hash, a SQLite write lock). Every unit of work reads, then
    writes, so on SQLite it takes the write lock when it begins rather than being refused
    at its first write once another connection has committed (see `Database.session`)."""
    with db.session(writes_after_reading=True) as session:
        return work(session)


def load(db: Database, action_id: str) -> ActionRecord | None:
    with db.session() as session:
        return session.get(ActionRecord, action_id)


def note_progress(db: Database, action_id: str, lines: list[str]) -> bool:
    """Show the steps of a running action on its card: the outcome lines of an EXECUTING
    record, with a new card version (no audit row: nothing changed state). False when the
    record is not executing any more."""
    with db.session() as session:
        moved = session.execute(
            update(ActionRecord)
            .where(
                col(ActionRecord.id) == action_id,
                col(ActionRecord.state) == ActionState.EXECUTING,
            )
            .values(outcome={"lines": lines}, card_version=ActionRecord.card_version + 1)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]
