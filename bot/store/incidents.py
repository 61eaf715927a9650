"""Tables of the alert pipeline: the durable webhook inbox, alerts, incidents, timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow


class AlertInbox(SQLModel, table=True):
    """Every accepted webhook body, written before the 200; drained after (and at start)."""

    __tablename__ = "alert_inbox"

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    body: str = Field(sa_column=Column(Text, nullable=False))
    processed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), index=True)
    )
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)


class Incident(SQLModel, table=True):
    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400, index=True, description="Correlation key.")
    open_key: str | None = Field(
        default=None,
        max_length=400,
        unique=True,
        description="Equals `key` while open: one open incident per key, across replicas.",
    )
    title: str = Field(max_length=300)
    severity: str = Field(default="none", max_length=30)
    service: str = Field(default="", max_length=200)
    namespace: str = Field(default="", max_length=200)
    status: str = Field(default="open", max_length=20, description="open|acknowledged|resolved")
    source: str = Field(default="alertmanager", max_length=20, description="alertmanager|manual")
    rule: str = Field(default="", max_length=100, description="The grouping rule that keyed it.")
    opened_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    last_alert_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True))
    )
    notify_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    acknowledged_by: str | None = Field(default=None, max_length=50)
    muted_by: str | None = Field(default=None, max_length=100)
    reopen_count: int = 0
    channel: str = Field(default="", max_length=100)
    dedicated_channel: bool = False
    invite: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    thread_ts: str | None = Field(default=None, max_length=40)
    posting_by: str | None = Field(default=None, max_length=100, description="Header claim.")
    header_version: int = 0
    posted_version: int = 0
    triage_posted: bool = False
    resolution_posted: bool = True
    external_url: str = Field(default="", max_length=500)
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Alert(SQLModel, table=True):
    """One alert instance: Alertmanager's fingerprint + startsAt."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("fingerprint", "starts_at", name="uq_alert_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=32, index=True)
    starts_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ends_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    name: str = Field(max_length=200)
    status: str = Field(max_length=20)
    severity: str = Field(default="none", max_length=30)
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    annotations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    generator_url: str = Field(default="", max_length=2000)
    group_key: str = Field(default="", max_length=1000)
    receive_count: int = 1
    first_seen: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    last_seen: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    incident_id: int = Field(foreign_key="incident.id", index=True)


class IncidentEvent(SQLModel, table=True):
    """The incident's timeline: alerts joining, merges (with the rule), acks, resolution."""

    __tablename__ = "incident_event"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    kind: str = Field(max_length=40)
    text: str = Field(default="", max_length=2000)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
