"""Slack posts whose outcome is unknown, remembered in the database.

A post that failed with a 5xx or a timeout may have landed (bot.slack.posting). Its key is
kept here until an attempt settles it, so the next attempt reads the channel back first
even when it runs on another replica or after a restart. Rows live in the existing
`processed_key` table under their own scope (no migration): they are rare (one per
uncertain post), must outlive a process and must be seen by every replica, which is what
that table already gives; Redis would lose them in an outage or, in the single-process
default, on every restart.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from bot.store.db import Database
from bot.store.models import ProcessedKey

SCOPE = "slack-post-unsure"


class StoredOutcomes:
    """bot.slack.posting.UnsureOutcomes in the `processed_key` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def since(self, key: str) -> float | None:
        with self.db.session() as session:
            at = session.exec(
                select(ProcessedKey.at).where(
                    ProcessedKey.scope == SCOPE, ProcessedKey.key == key[:255]
                )
            ).first()
        if at is None:
            return None
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()

    def mark(self, key: str, at: float) -> None:
        try:
            with self.db.session() as session:
                session.add(
                    ProcessedKey(scope=SCOPE, key=key[:255], at=datetime.fromtimestamp(at, UTC))
                )
        except IntegrityError:
            pass  # already known: the earlier time stands

    def settle(self, key: str) -> None:
        with self.db.session() as session:
            session.exec(
                delete(ProcessedKey).where(
                    col(ProcessedKey.scope) == SCOPE, col(ProcessedKey.key) == key[:255]
                )
            )
