"""Tables of the alert pipeline: the durable webhook inbox, alerts, incidents, timeline.

What an alert may carry, field by field (untrusted input must never fail an insert):
- stored whole as TEXT, cut only for display: `generatorURL`, `externalURL`, `groupKey`,
  the alert name, severity, service and namespace (Alertmanager bounds none of them; a
  long PromQL expression makes a 2,000+ character generator URL);
- refused at the edge with 422 naming the field and its limit: a `fingerprint` longer
  than 32 characters (Alertmanager's are 16 hex digits; it is part of the alert's
  identity), NUL characters and unpaired surrogates anywhere (PostgreSQL text cannot hold
  them), bodies over the configured size;
- bounded by construction: the incident key (a long one keeps a prefix plus a digest, see
  `policies.routing.bounded_key`), the title (the summary's first 300 characters) and
  timeline texts (cut to 2,000 characters).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow

EVENT_TEXT_MAX = 2000


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
    error: str | None = Field(default=None, max_length=500, description="Last failure's reason.")
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True)), description="Back-off."
    )
    dead_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True)),
        description="Set aside after its retry budget; `opsbot inbox retry|drop` handles it.",
    )


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
    severity: str = Field(default="none", sa_column=Column(Text, nullable=False))
    service: str = Field(default="", sa_column=Column(Text, nullable=False))
    namespace: str = Field(default="", sa_column=Column(Text, nullable=False))
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
    external_url: str = Field(default="", sa_column=Column(Text, nullable=False))
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Alert(SQLModel, table=True):
    """One alert instance: Alertmanager's fingerprint + startsAt."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("fingerprint", "starts_at", name="uq_alert_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=32, index=True)
    starts_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ends_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    name: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=20)
    severity: str = Field(default="none", sa_column=Column(Text, nullable=False))
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    annotations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    generator_url: str = Field(default="", sa_column=Column(Text, nullable=False))
    group_key: str = Field(default="", sa_column=Column(Text, nullable=False))
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
    text: str = Field(default="", max_length=EVENT_TEXT_MAX)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
