"""The append-only, hash-chained audit log.

Each row's hash covers its content and the previous row's hash, so editing or removing a
row breaks every later link; `verify_chain` finds the first broken one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_random

from bot.store.db import Database
from bot.store.models import AuditEvent, utcnow

GENESIS = "0" * 64


def _digest(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    rule: str | None,
    detail: dict[str, Any],
) -> str:
    at_utc = at if at.tzinfo else at.replace(tzinfo=UTC)
    body = json.dumps(
        [prev_hash, at_utc.astimezone(UTC).isoformat(), actor, action, subject, rule, detail],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str = "",
    detail: dict[str, Any] | None = None,
    rule: str | None = None,
) -> AuditEvent:
    """Append a row inside the caller's transaction (so it commits with the state change).

    Two transactions appending after the same row conflict on the unique `prev_hash`;
    the loser's commit fails and the caller retries its whole unit of work.
    """
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    prev = last.hash if last else GENESIS
    at = utcnow()
    body = json.loads(json.dumps(detail or {}, default=str))
    row = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        rule=rule,
        detail=body,
        prev_hash=prev,
        hash=_digest(prev, at, actor, action, subject, rule, body),
    )
    session.add(row)
    session.flush()
    return row


@retry(
    retry=retry_if_exception_type(IntegrityError),
    stop=stop_after_attempt(20),
    wait=wait_random(0.001, 0.05),
    reraise=True,
)
def record(
    db: Database,
    *,
    actor: str,
    action: str,
    subject: str = "",
    detail: dict[str, Any] | None = None,
    rule: str | None = None,
) -> AuditEvent:
    """Append a row in a transaction of its own, retrying when another writer won the race."""
    with db.session() as session:
        return append(
            session, actor=actor, action=action, subject=subject, detail=detail, rule=rule
        )


def verify_chain(session: Session) -> tuple[int, int | None]:
    """Check every link; returns (rows checked, id of the first bad row or None)."""
    prev = GENESIS
    checked = 0
    for row in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))):
        expected = _digest(prev, row.at, row.actor, row.action, row.subject, row.rule, row.detail)
        if row.prev_hash != prev or row.hash != expected:
            return checked, row.id
        prev = row.hash
        checked += 1
    return checked, None
