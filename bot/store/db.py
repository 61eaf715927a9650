"""Engine, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from bot.settings import DatabaseSettings
from bot.store.models import ProcessedKey

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 774_221_001  # advisory lock id: one replica migrates at a time


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    # WAL + NORMAL survives a process crash (the WAL is in the OS page cache); only an OS
    # crash or power loss can lose the last commits. PostgreSQL is for stricter needs.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Database:
    def __init__(self, settings: DatabaseSettings) -> None:
        self.url = settings.url
        if self.is_sqlite:
            self.engine: Engine = create_engine(
                self.url, echo=settings.echo, connect_args={"check_same_thread": False}
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(
                self.url, echo=settings.echo, pool_size=settings.pool_size, pool_pre_ping=True
            )

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def session(self, *, writes_after_reading: bool = False) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error.

        `writes_after_reading`: on SQLite, take the write lock when the transaction begins
        (`BEGIN IMMEDIATE`, waiting up to the busy timeout). A transaction that reads first
        holds a WAL snapshot, and SQLite refuses outright to turn it into a writer once any
        other connection has committed since — no waiting, "database is locked". PostgreSQL
        needs nothing: its row locks already order the writers."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                if writes_after_reading and self.is_sqlite:
                    session.execute(text("BEGIN IMMEDIATE"))
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def upgrade(self) -> None:
        """Apply every pending migration (idempotent; safe with several replicas)."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            try:
                cfg = Config()
                cfg.set_main_option("script_location", str(MIGRATIONS))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                if not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                    conn.commit()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            try:
                row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
            except SQLAlchemyError:  # the table is absent before the first migration
                return None
            return None if row is None else str(row[0])

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    def claim_once(self, scope: str, key: str) -> bool:
        """Record `key` in `scope`; False if it was recorded before (by any replica)."""
        try:
            with self.session() as session:
                session.add(ProcessedKey(scope=scope, key=key[:255]))
        except IntegrityError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
