"""The digests' own table (created by migration 0005): one row per digest run."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, Text
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow


class DigestRun(SQLModel, table=True):
    """One digest run: when, by which replica, what it posted (or why it failed)."""

    __tablename__ = "digest_run"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=40, index=True)
    trigger: str = Field(max_length=20, description="schedule | manual | cli")
    scheduled_for: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    started_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), index=True)
    )
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    status: str = Field(default="running", max_length=20, description="running|posted|failed")
    replica: str = Field(default="", max_length=200)
    channel: str | None = Field(default=None, max_length=100)
    ts: str | None = Field(default=None, max_length=40, description="The digest message.")
    files: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    error: str | None = Field(default=None, max_length=2000)
