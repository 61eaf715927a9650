"""The alert inbox's retry budget: back-off, setting a row aside, and handling it after.

A row whose ingest fails is counted and retried later (exponential back-off from
BACKOFF_SECONDS, capped at BACKOFF_CAP_SECONDS); after MAX_ATTEMPTS, or at once when its
body can never be valid, it is set aside (`dead_at`) with its reason. Set-aside rows are
kept, never deleted: `opsbot inbox list | retry ID | drop ID` and `/opsbot status` show
and handle them. Reasons name the kind of failure, never the alert's contents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.errors import BadInput
from bot.slack.text import escape
from bot.store.db import Database
from bot.store.incidents import AlertInbox
from bot.store.models import utcnow

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 600.0
REASON_MAX = 500


@dataclass(frozen=True)
class Failure:
    """Why one row could not be ingested: its kind (an exception class name) and a reason
    safe to log and show (no alert contents)."""

    kind: str
    reason: str
    permanent: bool = False


@dataclass(frozen=True)
class SetAside:
    """A row out of the drain, as operators see it."""

    id: int
    received_at: datetime
    attempts: int
    reason: str
    size: int


def backoff(attempts: int) -> timedelta:
    """The wait before attempt `attempts + 1`: doubling from BACKOFF_SECONDS, capped."""
    return timedelta(seconds=min(BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def database_reason(exc: DBAPIError) -> str:
    """The database's own one-line reason (e.g. "value too long for type character
    varying(32)"), without the statement, its parameters or PostgreSQL's detail line
    (they hold the alert). SQLite's messages name columns, never values."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:
        primary = getattr(diag, "message_primary", None)
        return primary if isinstance(primary, str) and primary else type(exc.orig).__name__
    return str(exc.orig or type(exc).__name__).splitlines()[0][:200]


def record_failure(row: AlertInbox, failure: Failure, now: datetime) -> None:
    """Count a failed attempt on `row`: back off, or set it aside when its budget is spent."""
    row.attempts += 1
    row.error = f"{failure.kind}: {failure.reason}"[:REASON_MAX]
    if failure.permanent or row.attempts >= MAX_ATTEMPTS:
        row.dead_at, row.next_attempt_at = now, None
    else:
        row.next_attempt_at = now + backoff(row.attempts)


def due_rows(now: datetime) -> SelectOfScalar[AlertInbox]:
    """Rows the drain should take now, oldest first."""
    return (
        select(AlertInbox)
        .where(col(AlertInbox.processed_at).is_(None))
        .where(col(AlertInbox.dead_at).is_(None))
        .where(
            or_(col(AlertInbox.next_attempt_at).is_(None), col(AlertInbox.next_attempt_at) <= now)
        )
        .order_by(col(AlertInbox.id))
    )


def set_aside(db: Database, limit: int = 100) -> list[SetAside]:
    """Rows set aside and not dropped, oldest first."""
    with db.session() as session:
        rows = session.exec(_set_aside_query().order_by(col(AlertInbox.id)).limit(limit)).all()
        return [
            SetAside(
                id=row.id or 0,
                received_at=row.received_at,
                attempts=row.attempts,
                reason=row.error or "",
                size=len(row.body),
            )
            for row in rows
        ]


def count_set_aside(db: Database) -> int:
    """How many rows are set aside (for `/opsbot status` and /readyz)."""
    with db.session() as session:
        query = select(func.count()).select_from(AlertInbox)
        query = query.where(col(AlertInbox.processed_at).is_(None))
        query = query.where(col(AlertInbox.dead_at).is_not(None))
        return int(session.exec(query).one())


def retry(db: Database, inbox_id: int) -> None:
    """Give a set-aside row a fresh retry budget; the next drain takes it."""
    with db.session() as session:
        row = _held(session, inbox_id)
        row.attempts, row.dead_at, row.next_attempt_at, row.error = 0, None, None, None
        session.add(row)


def drop(db: Database, inbox_id: int, who: str) -> None:
    """Mark a set-aside row handled without ingesting it (kept for the record)."""
    with db.session() as session:
        row = _held(session, inbox_id)
        row.processed_at = utcnow()
        row.error = f"dropped by {who}; was: {row.error or ''}"[:REASON_MAX]
        session.add(row)


def _set_aside_query() -> SelectOfScalar[AlertInbox]:
    return (
        select(AlertInbox)
        .where(col(AlertInbox.processed_at).is_(None))
        .where(col(AlertInbox.dead_at).is_not(None))
    )


def _held(session: Session, inbox_id: int) -> AlertInbox:
    row = session.get(AlertInbox, inbox_id)
    if row is None or row.processed_at is not None or row.dead_at is None:
        raise BadInput(f"inbox row {inbox_id} is not set aside", status=404)
    return row


def inbox_status(db: Database) -> list[str]:
    """The alert inbox's lines of `/opsbot status`: what was set aside, and how to handle it."""
    lines: list[str] = []
    held = set_aside(db, limit=5)
    if held:
        total = count_set_aside(db)
        lines.append(
            f":warning: *Alert inbox*: {total} set aside after failing to ingest"
            " (`opsbot inbox list`, then `retry ID` or `drop ID`):"
        )
        lines.extend(
            f"  · `{row.id}` after {row.attempts} attempts: {escape(row.reason)}" for row in held
        )
    else:
        lines.append("*Alert inbox*: nothing set aside")
    return lines
