"""Tables of the remediation layer: action records and approvals, the guard state every
replica shares (kill switch, circuit breakers), escalations, watcher state, audit anchors."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow


def _ts(*, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), index=index))


ACTION_ID_MAX = 40
_ACTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def plausible_action_id(value: str) -> bool:
    """Whether a clicked value could name an action at all: ids are short and plain. A
    value that cannot is refused before it reaches a query, a lease or an audit row
    (whose columns it would not fit)."""
    return len(value) <= ACTION_ID_MAX and _ACTION_ID.fullmatch(value) is not None


class ActionRecord(SQLModel, table=True):
    """One proposed action and its life: proposed → pending → approved/denied/expired →
    executing → succeeded/failed/rolled_back/not_recovered (plus refused, shadowed and blocked).

    Every transition is an `UPDATE ... WHERE state = <expected>`, so exactly one caller
    wins a race (two approvers, a double click, the expiry job)."""

    __tablename__ = "action_record"

    id: str = Field(primary_key=True, max_length=ACTION_ID_MAX)
    proposal_id: str = Field(max_length=128, index=True)
    incident_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=40, index=True)
    namespace: str = Field(default="", max_length=100, index=True)
    target: str = Field(max_length=300, description="kind/namespace/name")
    action: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    state: str = Field(max_length=20, index=True)
    verdict: str = Field(max_length=20)
    rule: str = Field(max_length=200)
    disposition: str = Field(max_length=30)
    decision: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    approvers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    approvals_required: int = 0
    proposer: str = Field(max_length=50)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    rationale: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    blast_radius: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    validation_query: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    expires_at: datetime | None = _ts(index=True)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = _ts()
    deny_reason: str | None = Field(default=None, max_length=2000)
    started_at: datetime | None = _ts(index=True)
    finished_at: datetime | None = _ts(index=True)
    outcome: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    thread_channel: str | None = Field(
        default=None, max_length=100, description="Where a card without an incident goes."
    )
    thread_ts: str | None = Field(
        default=None, max_length=40, description="The thread of `thread_channel` (a review's)."
    )
    card_channel: str | None = Field(default=None, max_length=100)
    card_ts: str | None = Field(default=None, max_length=40)
    card_version: int = 0
    posted_version: int = 0


class ActionApproval(SQLModel, table=True):
    """One approver's click; unique per action so a double click counts once."""

    __tablename__ = "action_approval"
    __table_args__ = (UniqueConstraint("action_id", "approver", name="uq_action_approval"),)

    id: int | None = Field(default=None, primary_key=True)
    action_id: str = Field(foreign_key="action_record.id", index=True, max_length=40)
    approver: str = Field(max_length=50)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class RemediationControl(SQLModel, table=True):
    """The kill switch (one row, `global`). Its row is also the gate every execution start
    takes a write lock on, so rate limits hold across replicas."""

    __tablename__ = "remediation_control"

    name: str = Field(primary_key=True, max_length=40)
    paused: bool = False
    changed_by: str | None = Field(default=None, max_length=50)
    changed_at: datetime | None = _ts()
    reason: str = Field(default="", max_length=500)
    version: int = 0


class Breaker(SQLModel, table=True):
    """A circuit breaker (`global` or one per action kind): closed, open or half_open.

    Attempts are the finished action records since `window_start`; `opened_at` starts the
    cool-down after which one trial runs (half-open)."""

    __tablename__ = "remediation_breaker"

    scope: str = Field(primary_key=True, max_length=40)
    state: str = Field(default="closed", max_length=20)
    opened_at: datetime | None = _ts()
    window_start: datetime | None = _ts()
    trial_action_id: str | None = Field(default=None, max_length=40)
    updated_at: datetime | None = _ts()


class Escalation(SQLModel, table=True):
    """A page sent for an incident (PagerDuty dedup key = the incident), resolved once."""

    __tablename__ = "escalation"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, index=True)
    dedup_key: str = Field(max_length=255, unique=True)
    reason: str = Field(default="", max_length=1000)
    paged: bool = False
    triggered_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True))
    )
    resolved_at: datetime | None = _ts()


class WatchCursor(SQLModel, table=True):
    """Where a Kubernetes watch stopped, so the next holder resumes from there."""

    __tablename__ = "watch_cursor"

    name: str = Field(primary_key=True, max_length=60)
    resource_version: str = Field(max_length=60)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class WatchProblem(SQLModel, table=True):
    """A problem the watcher saw (crash loop, bad image, node not ready, failed rollout).

    `fire_at` lets "long NotReady" wait; the alert is sent once (`alerted_at`) and resolved
    once (`resolved_at`), with `first_seen` as its stable startsAt."""

    __tablename__ = "watch_problem"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, index=True)
    open_key: str | None = Field(
        default=None, max_length=300, unique=True, description="Equals `key` until resolved."
    )
    alertname: str = Field(max_length=100)
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    summary: str = Field(default="", max_length=1000)
    first_seen: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    fire_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
    alerted_at: datetime | None = _ts()
    cleared_at: datetime | None = _ts(index=True)
    resolved_at: datetime | None = _ts()


class AuditAnchor(SQLModel, table=True):
    """A retention cut: rows up to `cut_id` were archived; `cut_hash` is the last archived
    row's hash, which the first remaining row's `prev_hash` must equal."""

    __tablename__ = "audit_anchor"

    id: int | None = Field(default=None, primary_key=True)
    cut_id: int
    cut_hash: str = Field(max_length=64)
    rows: int
    location: str = Field(max_length=1000)
    sha256: str = Field(max_length=64)
    archived_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
