"""Tables. Schema changes go through an alembic migration in `bot/store/migrations/versions`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Now, in UTC, as every stored time is written."""
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """A stored time as UTC: SQLite hands back naive values, PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class AuditEvent(SQLModel, table=True):
    """One append-only, hash-chained audit row.

    `prev_hash` is unique, so two writers racing to append after the same row cannot both
    succeed: the chain never forks. Triggers (see the migration) refuse UPDATE and DELETE.
    """

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    actor: str = Field(max_length=200, description="Slack user id, 'agent', 'scheduler'...")
    action: str = Field(max_length=100, index=True, description="What happened.")
    subject: str = Field(default="", max_length=200, index=True, description="What it was done to.")
    rule: str | None = Field(default=None, max_length=200, description="The policy rule, if any.")
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64)


class ProcessedKey(SQLModel, table=True):
    """Idempotency keys: a Slack `event_id` or a webhook delivery seen before is skipped."""

    __tablename__ = "processed_key"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_processed_key_scope_key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=50)
    key: str = Field(max_length=255)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class Lease(SQLModel, table=True):
    """A named lock with an expiry, shared by every replica through the database."""

    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=200)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
