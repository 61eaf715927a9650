"""Remediation: action records and approvals, kill switch, breakers, escalations, watcher
state, audit anchors; audit rows may be deleted only once archived behind an anchor.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = True, index: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, index=index)


# Archiving deletes audit rows: allowed only for rows at or below an anchor's cut (the anchor
# is written first, in the same transaction, and is itself append-only). Everything else
# stays refused, as in 0001.
_SQLITE_GUARDS = [
    "DROP TRIGGER audit_event_no_delete",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       WHEN OLD.id > (SELECT COALESCE(MAX(cut_id), 0) FROM audit_anchor)
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    """CREATE TRIGGER audit_anchor_no_update BEFORE UPDATE ON audit_anchor
       BEGIN SELECT RAISE(ABORT, 'audit_anchor is append-only'); END""",
    """CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
       BEGIN SELECT RAISE(ABORT, 'audit_anchor is append-only'); END""",
]
_PG_GUARDS = [
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_event'
            AND OLD.id <= (SELECT COALESCE(MAX(cut_id), 0) FROM audit_anchor) THEN
           RETURN OLD;
         END IF;
         RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
       END $$""",
    """CREATE TRIGGER audit_anchor_no_change BEFORE UPDATE OR DELETE ON audit_anchor
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
    """CREATE TRIGGER audit_anchor_no_truncate BEFORE TRUNCATE ON audit_anchor
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
]


def _action_tables() -> None:
    op.create_table(
        "action_record",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("proposal_id", sa.String(128), nullable=False, index=True),
        sa.Column("incident_id", sa.Integer(), nullable=True, index=True),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("namespace", sa.String(100), nullable=False, index=True),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("disposition", sa.String(30), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("approvers", sa.JSON(), nullable=False),
        sa.Column("approvals_required", sa.Integer(), nullable=False),
        sa.Column("proposer", sa.String(50), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("rationale", sa.JSON(), nullable=False),
        sa.Column("blast_radius", sa.JSON(), nullable=False),
        sa.Column("validation_query", sa.Text(), nullable=True),
        _ts("created_at", nullable=False),
        _ts("expires_at", index=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        _ts("decided_at"),
        sa.Column("deny_reason", sa.String(2000), nullable=True),
        _ts("started_at", index=True),
        _ts("finished_at", index=True),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("card_channel", sa.String(100), nullable=True),
        sa.Column("card_ts", sa.String(40), nullable=True),
        sa.Column("card_version", sa.Integer(), nullable=False),
        sa.Column("posted_version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "action_approval",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "action_id",
            sa.String(40),
            sa.ForeignKey("action_record.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("approver", sa.String(50), nullable=False),
        _ts("at", nullable=False),
        sa.UniqueConstraint("action_id", "approver", name="uq_action_approval"),
    )


def _guard_tables() -> None:
    op.create_table(
        "remediation_control",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(50), nullable=True),
        _ts("changed_at"),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.execute(
        "INSERT INTO remediation_control (name, paused, reason, version) "
        "VALUES ('global', false, '', 0)"
    )
    op.create_table(
        "remediation_breaker",
        sa.Column("scope", sa.String(40), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        _ts("opened_at"),
        _ts("window_start"),
        sa.Column("trial_action_id", sa.String(40), nullable=True),
        _ts("updated_at"),
    )
    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_id", sa.Integer(), nullable=True, index=True),
        sa.Column("dedup_key", sa.String(255), nullable=False, unique=True),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("paged", sa.Boolean(), nullable=False),
        _ts("triggered_at", nullable=False),
        _ts("resolved_at"),
    )


def _watch_and_audit_tables() -> None:
    op.create_table(
        "watch_cursor",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("resource_version", sa.String(60), nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_table(
        "watch_problem",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(300), nullable=False, index=True),
        sa.Column("open_key", sa.String(300), nullable=True, unique=True),
        sa.Column("alertname", sa.String(100), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(1000), nullable=False),
        _ts("first_seen", nullable=False),
        _ts("fire_at", nullable=False),
        _ts("alerted_at"),
        _ts("cleared_at", index=True),
        _ts("resolved_at"),
    )
    op.create_table(
        "audit_anchor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cut_id", sa.Integer(), nullable=False),
        sa.Column("cut_hash", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(1000), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        _ts("archived_at", nullable=False),
    )


def upgrade() -> None:
    _action_tables()
    _guard_tables()
    _watch_and_audit_tables()
    guards = _SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else _PG_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_event_no_delete")
        op.execute(
            """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
               BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"""
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_anchor_no_change ON audit_anchor")
        op.execute("DROP TRIGGER IF EXISTS audit_anchor_no_truncate ON audit_anchor")
        op.execute(
            """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
               LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$"""
        )
    for table in (
        "audit_anchor",
        "watch_problem",
        "watch_cursor",
        "escalation",
        "remediation_breaker",
        "remediation_control",
        "action_approval",
        "action_record",
    ):
        op.drop_table(table)
