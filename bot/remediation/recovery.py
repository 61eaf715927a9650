"""After a crash: approvals the dead process accepted but never started.

An approval is committed before the action is handed to the executor, so a process killed
in between leaves the record APPROVED with nobody to run it. At start and periodically,
any replica picks such records up: a recent approval runs (the executor's atomic
APPROVED → EXECUTING move and its run lease make that happen once across replicas); an
old one is not run behind people's backs but blocked, visibly, asking for re-approval.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot.logs import get_logger
from bot.remediation.parts import Parts
from bot.remediation.records import ActionState, transition, unit_of_work
from bot.store.actions import ActionRecord
from bot.store.models import aware, utcnow

log = get_logger("opsbot.remediation.recovery")
RESUME_WITHIN = timedelta(minutes=10)
"""An approval older than this when found unstarted is not acted on any more."""
STALE_APPROVAL = (
    "Interrupted before it ran: opsbot stopped after the approval and was back too late "
    "to act on it. Nothing was done; ask for a new proposal if it is still needed."
)


def resume_approved(svc: Parts) -> list[str]:
    """Run recent orphaned approvals, block stale ones; returns the ids that were resumed."""
    now = utcnow()
    with svc.db.session() as session:
        orphans = session.exec(
            select(ActionRecord).where(ActionRecord.state == ActionState.APPROVED)
        ).all()
    resumed = []
    for record in orphans:
        decided = aware(record.decided_at) if record.decided_at else aware(record.created_at)
        if now - decided <= RESUME_WITHIN:
            log.info("resuming an approved action", action=record.id)
            svc.submit(record.id)
            resumed.append(record.id)
        elif _block_stale(svc, record.id):
            svc.cards.refresh(record.id)
    return resumed


def _block_stale(svc: Parts, action_id: str) -> bool:
    def work(session: Session) -> bool:
        return (
            transition(
                session,
                action_id,
                [ActionState.APPROVED],
                ActionState.BLOCKED,
                actor="opsbot",
                detail={"reason": STALE_APPROVAL},
                finished_at=utcnow(),
                outcome={"lines": [STALE_APPROVAL]},
            )
            is not None
        )

    return unit_of_work(svc.db, work)
