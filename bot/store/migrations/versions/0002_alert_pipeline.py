"""Alert pipeline: webhook inbox, incidents, alerts, incident timeline, leases.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = False, index: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, index=index)


def upgrade() -> None:
    op.create_table(
        "alert_inbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ts("received_at"),
        sa.Column("body", sa.Text(), nullable=False),
        _ts("processed_at", nullable=True, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
    )
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(400), nullable=False, index=True),
        sa.Column("open_key", sa.String(400), nullable=True, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("severity", sa.String(30), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("namespace", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        _ts("opened_at"),
        _ts("last_alert_at"),
        _ts("notify_at"),
        _ts("resolved_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(50), nullable=True),
        sa.Column("muted_by", sa.String(100), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("dedicated_channel", sa.Boolean(), nullable=False),
        sa.Column("invite", sa.JSON(), nullable=False),
        sa.Column("thread_ts", sa.String(40), nullable=True),
        sa.Column("posting_by", sa.String(100), nullable=True),
        sa.Column("header_version", sa.Integer(), nullable=False),
        sa.Column("posted_version", sa.Integer(), nullable=False),
        sa.Column("triage_posted", sa.Boolean(), nullable=False),
        sa.Column("resolution_posted", sa.Boolean(), nullable=False),
        sa.Column("external_url", sa.String(500), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
    )
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fingerprint", sa.String(32), nullable=False, index=True),
        _ts("starts_at"),
        _ts("ends_at", nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(30), nullable=False, server_default="none"),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("generator_url", sa.String(2000), nullable=False),
        sa.Column("group_key", sa.String(1000), nullable=False),
        sa.Column("receive_count", sa.Integer(), nullable=False),
        _ts("first_seen"),
        _ts("last_seen"),
        sa.Column(
            "incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False, index=True
        ),
        sa.UniqueConstraint("fingerprint", "starts_at", name="uq_alert_identity"),
    )
    op.create_table(
        "incident_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False, index=True
        ),
        _ts("at"),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )

    op.create_table(
        "lease",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        _ts("expires_at"),
    )


def downgrade() -> None:
    for table in ("lease", "incident_event", "alert", "incident", "alert_inbox"):
        op.drop_table(table)
