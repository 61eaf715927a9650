from __future__ import annotations

import itertools
import threading

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.audit import chain as audit
from bot.settings import DatabaseSettings
from bot.store.db import MIGRATIONS, Database
from bot.store.models import AuditEvent


def test_migrations_are_idempotent_and_reach_head(database_url: str) -> None:
    db = Database(DatabaseSettings(url=database_url))
    db.upgrade()
    db.upgrade()
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    assert db.current_revision() == head
    db.dispose()


def test_audit_rows_form_a_chain_that_verifies(db: Database) -> None:
    for i in range(5):
        audit.record(
            db,
            actor="U0ALICE",
            action="action.approved",
            subject=f"act-{i}",
            detail={"n": i},
            rule="prod-restart",
        )
    with db.session() as session:
        assert audit.verify_chain(session) == (5, None)
        rows = session.exec(select(AuditEvent)).all()
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))


def test_audit_rows_cannot_be_edited_or_deleted(db: Database) -> None:
    row = audit.record(db, actor="agent", action="action.proposed", subject="act-1")
    with pytest.raises(DBAPIError, match="append-only"), db.session() as session:
        session.execute(
            text("UPDATE audit_event SET actor = 'mallory' WHERE id = :i"), {"i": row.id}
        )
    with pytest.raises(DBAPIError, match="append-only"), db.session() as session:
        session.execute(text("DELETE FROM audit_event"))
    with db.session() as session:
        assert audit.verify_chain(session) == (1, None)


def test_a_tampered_audit_row_is_found_by_verification(db: Database) -> None:
    for i in range(3):
        audit.record(db, actor="agent", action="step", subject=str(i))
    with db.session() as session:
        # Simulate someone with table-owner rights bypassing the trigger.
        if db.is_sqlite:
            session.execute(text("DROP TRIGGER audit_event_no_update"))
        else:
            session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
        session.execute(text("UPDATE audit_event SET subject = 'x' WHERE subject = '1'"))
    with db.session() as session:
        checked, bad = audit.verify_chain(session)
    assert checked == 1
    assert bad is not None


def test_concurrent_audit_writers_never_fork_or_lose_the_chain(db: Database) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                audit.record(db, actor=f"w{n}", action="step", subject=f"{n}-{i}")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as session:
        assert audit.verify_chain(session) == (40, None)


def test_an_idempotency_key_is_claimed_exactly_once(db: Database) -> None:
    assert db.claim_once("slack_event", "Ev123") is True
    assert db.claim_once("slack_event", "Ev123") is False
    assert db.claim_once("webhook", "Ev123") is True
