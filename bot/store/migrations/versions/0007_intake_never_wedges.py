"""Intake never wedges: alert-supplied strings are stored whole, inbox rows back off and
can be set aside.

Alert fields that Alertmanager does not bound (URLs, group keys, label values used as
alert name, severity, service and namespace) become TEXT, so a long PromQL expression in
`generatorURL` can no longer fail an insert on PostgreSQL. SQLite never enforced VARCHAR
lengths, so only PostgreSQL needs the column types changed.

The inbox gains `next_attempt_at` (back-off after a failed ingest) and `dead_at` (set
aside after its retry budget, with the reason in `error`).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_WIDENED = {
    "alert": {
        "name": 200,
        "severity": 30,
        "generator_url": 2000,
        "group_key": 1000,
    },
    "incident": {"severity": 30, "service": 200, "namespace": 200, "external_url": 500},
}


def upgrade() -> None:
    op.add_column("alert_inbox", sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
    op.add_column("alert_inbox", sa.Column("dead_at", sa.DateTime(timezone=True)))
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in _WIDENED.items():
        for column, length in columns.items():
            op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in _WIDENED.items():
            for column, length in columns.items():
                op.alter_column(
                    table,
                    column,
                    type_=sa.String(length),
                    existing_type=sa.Text(),
                    postgresql_using=f"left({column}, {length})",
                )
    with op.batch_alter_table("alert_inbox") as batch:
        batch.drop_column("dead_at")
        batch.drop_column("next_attempt_at")
