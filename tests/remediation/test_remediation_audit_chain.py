"""`opsbot audit verify|export` and retention: tampering is found (PostgreSQL and SQLite),
and archiving old rows keeps the chain verifiable across the cut."""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from bot.audit import chain as audit
from bot.audit.archive import archive, verify, verify_archives
from bot.cli.root import cli
from bot.store.db import Database
from bot.store.models import utcnow


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("OPSBOT_DATABASE_URL", database_url)
    archive_dir = tmp_path / "archive"
    monkeypatch.setenv("OPSBOT_AUDIT_ARCHIVE_DIR", str(archive_dir))
    return archive_dir


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def fill(db: Database, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        audit.record(db, actor="U0BOB", action="action.approved", subject=f"action:a{n}")


def bypass_triggers(db: Database, *statements: str) -> None:
    """What someone with the table owner's rights could do."""
    with db.session() as session:
        if db.is_sqlite:
            session.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            session.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
        else:
            session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        for statement in statements:
            session.execute(text(statement))


SWAP_2_AND_3 = (
    "UPDATE audit_event SET id = 1000 WHERE id = 2",
    "UPDATE audit_event SET id = 2 WHERE id = 3",
    "UPDATE audit_event SET id = 3 WHERE id = 1000",
)


@pytest.mark.parametrize(
    ("tamper", "bad_row"),
    [
        (("UPDATE audit_event SET actor = 'mallory' WHERE id = 3",), 3),
        (("DELETE FROM audit_event WHERE id = 3",), 4),
        (SWAP_2_AND_3, 2),
    ],
    ids=["changed", "deleted", "reordered"],
)
def test_audit_verify_names_the_first_changed_deleted_or_reordered_row(
    db: Database, cli_env: Path, tamper: tuple[str, ...], bad_row: int
) -> None:
    fill(db, 5)
    assert run("audit", "verify") == (0, "audit chain OK: 5 row(s) verified\n")
    bypass_triggers(db, *tamper)
    code, output = run("audit", "verify")
    assert code == 1
    assert f"row {bad_row}:" in output
    assert "BROKEN" in output


def test_the_application_cannot_change_or_delete_audit_rows(db: Database) -> None:
    fill(db, 2)
    for statement in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), db.session() as session:
            session.execute(text(statement))
    with pytest.raises(DBAPIError, match="append-only"), db.session() as session:
        session.execute(
            text(
                "TRUNCATE audit_event"
                if not db.is_sqlite
                else "DELETE FROM audit_event WHERE id = 1"
            )
        )


def test_export_since_a_moment_as_jsonl_and_csv(db: Database, cli_env: Path) -> None:
    fill(db, 2)
    time.sleep(0.01)
    since = utcnow()
    fill(db, 3, start=2)
    code, output = run("audit", "export", "--since", since.isoformat(), "--format", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in output.splitlines()]
    assert [r["subject"] for r in rows] == ["action:a2", "action:a3", "action:a4"]
    assert set(rows[0]) == {
        "id",
        "at",
        "actor",
        "action",
        "subject",
        "rule",
        "detail",
        "prev_hash",
        "hash",
    }
    code, output = run("audit", "export", "--since", "1d", "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(output)))
    assert code == 0
    assert len(parsed) == 5
    assert json.loads(parsed[0]["detail"]) == {}


def test_retention_archives_old_rows_and_the_chain_verifies_across_the_cut(
    db: Database, cli_env: Path
) -> None:
    fill(db, 4)
    time.sleep(0.01)
    cutoff = utcnow()
    fill(db, 2, start=4)
    anchor = archive(db, cutoff, cli_env)
    assert anchor is not None
    assert (anchor.rows, anchor.cut_id) == (4, 4)
    with db.session() as session:
        result = verify(session)
        assert (result.ok, result.checked) == (True, 3)  # 2 kept + the audit.archived row
        assert verify_archives(session, cli_env).ok
    assert run("audit", "verify", "--archives")[0] == 0
    with gzip.open(anchor.location, "rt") as stream:
        archived = [json.loads(line) for line in stream]
    assert [r["id"] for r in archived] == [1, 2, 3, 4]

    # Nothing above the cut may go, and a later append still chains on.
    with pytest.raises(DBAPIError, match="append-only"), db.session() as session:
        session.execute(text("DELETE FROM audit_event WHERE id = 5"))
    fill(db, 1, start=6)
    assert run("audit", "verify", "--archives")[0] == 0

    # An edited archive no longer matches its anchor.
    archived[1]["actor"] = "mallory"
    with gzip.open(anchor.location, "wt") as stream:
        stream.writelines(json.dumps(r) + "\n" for r in archived)
    code, output = run("audit", "verify", "--archives")
    assert code == 1
    assert "sha256" in output


def test_rows_deleted_right_after_the_cut_are_found(db: Database, cli_env: Path) -> None:
    fill(db, 3)
    time.sleep(0.01)
    cutoff = utcnow()
    fill(db, 2, start=3)
    archive(db, cutoff, cli_env)
    bypass_triggers(db, "DELETE FROM audit_event WHERE id = 4")
    code, output = run("audit", "verify")
    assert code == 1
    assert "row 5:" in output
