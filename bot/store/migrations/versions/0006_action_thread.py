"""Action records carry the Slack thread their card goes to when they belong to no incident
(a capacity review's proposals go in the weekly digest's thread).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("action_record", sa.Column("thread_channel", sa.String(100), nullable=True))
    op.add_column("action_record", sa.Column("thread_ts", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_record") as batch:
        batch.drop_column("thread_ts")
        batch.drop_column("thread_channel")
