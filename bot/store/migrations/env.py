"""Alembic environment: migrations run on the connection `Database.upgrade` hands in."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

# Importing the table modules registers them on SQLModel.metadata.
import bot.store.incidents
import bot.store.models  # noqa: F401

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
