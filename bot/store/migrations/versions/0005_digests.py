"""Digests and log analysis: scheduled jobs (APScheduler's job store), digest run records,
persisted log-miner state per stream and per-window template counts.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _ts(name: str, *, nullable: bool = False, index: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable, index=index)


def upgrade() -> None:
    # The schema of apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore (APScheduler 3), made
    # here so migrations own every table; the job store's own CREATE then finds it in place.
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), index=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "digest_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("digest", sa.String(40), nullable=False, index=True),
        sa.Column("trigger", sa.String(20), nullable=False),
        _ts("scheduled_for", nullable=True),
        _ts("started_at", index=True),
        _ts("finished_at", nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("replica", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(100), nullable=True),
        sa.Column("ts", sa.String(40), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("error", sa.String(2000), nullable=True),
    )
    op.create_table(
        "log_miner_state",
        sa.Column("stream", sa.String(300), primary_key=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("templates", sa.Integer(), nullable=False),
        _ts("updated_at"),
    )
    op.create_table(
        "log_window_counts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stream", sa.String(300), nullable=False),
        sa.Column("scope", sa.String(300), nullable=False),
        _ts("window_start"),
        _ts("window_end"),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        _ts("recorded_at"),
        sa.UniqueConstraint(
            "stream", "scope", "window_start", "window_end", name="uq_log_window_counts"
        ),
    )


def downgrade() -> None:
    for table in ("log_window_counts", "log_miner_state", "digest_run", "apscheduler_jobs"):
        op.drop_table(table)
