"""The alert inbox never wedges: long fields are stored, a failing row is isolated, backed
off and set aside, and the rows behind it flow on — on PostgreSQL as well as SQLite."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli.root import cli
from bot.incidents import inbox
from bot.incidents.inbox import inbox_status
from bot.remediation.status import status_text
from bot.store.db import Database
from bot.store.incidents import Alert, AlertInbox, Incident
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot
from tests.conftest import wait_until
from tests.incidents.amfixtures import alert, webhook

TOKEN = "am-webhook-token-wedge"


@pytest.fixture
def intake(slack: SlackWorkspace, database_url: str) -> Iterator[RunningBot]:
    with running_bot(
        slack, database_url=database_url, alertmanager={"bearer_token": TOKEN}
    ) as running:
        yield running


def post(bot: RunningBot, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{bot.url}/alertmanager",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )


def stored_names(db: Database) -> set[str]:
    with db.session() as session:
        return {a.name for a in session.exec(select(Alert)).all()}


def oversized(name: str) -> dict[str, Any]:
    """One alert with every field the old schema bounded beyond its bound."""
    now = datetime.now(UTC)
    body = webhook(
        alert(
            name + "X" * 250,
            now,
            severity="s" * 40,
            service="svc-" + "v" * 250,
            namespace="ns-" + "n" * 250,
        )
    )
    expr = "sum(rate(http_requests_total{code=~%225..%22}[5m]))" * 45
    body["alerts"][0]["generatorURL"] = "http://prometheus:9090/graph?g0.expr=" + expr
    body["externalURL"] = "http://alertmanager:9093/" + "e" * 600
    body["groupKey"] = "{}:{alertname=%s}" % ("g" * 1200)
    return body


def test_an_alert_with_every_field_over_the_old_limits_is_stored_and_later_alerts_flow(
    intake: RunningBot,
) -> None:
    big = oversized("LongPromQL")
    assert len(big["alerts"][0]["generatorURL"]) > 2000
    assert post(intake, big).status_code == 200
    fresh = webhook(alert("FreshCritical", datetime.now(UTC), severity="critical", service="api"))
    assert post(intake, fresh).status_code == 200
    db = intake.bot.deps.db
    wait_until(lambda: len(stored_names(db)) == 2, 15, "both alerts were not ingested")
    with db.session() as session:
        long_alert = session.exec(
            select(Alert).where(col(Alert.name).startswith("LongPromQL"))
        ).one()
        assert long_alert.generator_url == big["alerts"][0]["generatorURL"]
        assert long_alert.group_key == big["groupKey"]
        incident = session.get(Incident, long_alert.incident_id)
        assert incident is not None
        assert incident.external_url == big["externalURL"]
        assert len(incident.key) <= 400
    pipeline = intake.bot.runtime.pipeline
    wait_until(lambda: pipeline.pending() == 0, 20, "an inbox row stayed pending")


def test_incident_keys_over_the_column_width_stay_distinct(intake: RunningBot) -> None:
    now = datetime.now(UTC)
    shared = "w" * 500
    for tail in ("a", "b"):
        post(intake, webhook(alert("Wide", now, namespace="prod", service=shared + tail)))
    db = intake.bot.deps.db
    wait_until(lambda: len(stored_names(db)) >= 1, 15, "not ingested")

    def keys() -> set[str]:
        with db.session() as session:
            return {i.key for i in session.exec(select(Incident)).all()}

    wait_until(lambda: len(keys()) == 2, 15, "the two workloads were merged into one incident")
    assert all(len(k) <= 400 for k in keys())


def test_a_fingerprint_longer_than_the_store_holds_is_refused_naming_field_and_limit(
    intake: RunningBot,
) -> None:
    body = webhook(alert("BadPrint", datetime.now(UTC)))
    body["alerts"][0]["fingerprint"] = "f" * 40
    answer = post(intake, body)
    assert answer.status_code == 422
    assert "alerts.0.fingerprint" in answer.json()["error"]
    assert "32" in answer.json()["error"]


def _poison(db: Database, name: str) -> None:
    """A database-side failure for one alert name (a trigger), on either database."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON alert "
                    f"WHEN NEW.name = '{name}' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                )
            )
            return
        conn.execute(
            text(
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.name = '{name}' THEN RAISE EXCEPTION 'poisoned'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER poison BEFORE INSERT ON alert "
                "FOR EACH ROW EXECUTE FUNCTION poison()"
            )
        )


def _cure(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER poison" + ("" if db.is_sqlite else " ON alert")))


def _make_due(db: Database) -> None:
    with db.session() as session:
        session.execute(
            update(AlertInbox).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_a_row_that_keeps_failing_is_backed_off_set_aside_and_handled_from_the_cli(
    intake: RunningBot,
    database_url: str,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = intake.bot.deps.db
    pipeline = intake.bot.runtime.pipeline
    _poison(db, "PoisonAlert")
    secret = "summary-with-customer-data-4111"
    post(intake, webhook(alert("PoisonAlert", datetime.now(UTC), summary=secret)))
    post(intake, webhook(alert("BehindThePoison", datetime.now(UTC), severity="critical")))
    wait_until(lambda: "BehindThePoison" in stored_names(db), 15, "the row behind was held up")
    with db.session() as session:
        poisoned = session.exec(
            select(AlertInbox).where(col(AlertInbox.processed_at).is_(None))
        ).one()
    assert poisoned.attempts >= 1
    assert poisoned.next_attempt_at is not None
    assert poisoned.dead_at is None
    for _ in range(inbox.MAX_ATTEMPTS):
        _make_due(db)
        pipeline.drain()
    listed = inbox.set_aside(db)
    assert [row.id for row in listed] == [poisoned.id]
    assert listed[0].attempts == inbox.MAX_ATTEMPTS
    assert "poisoned" in listed[0].reason
    assert pipeline.pending() == 0
    logged = capfd.readouterr()
    assert secret not in logged.out + logged.err
    assert "PoisonAlert" not in logged.out + logged.err

    monkeypatch.setenv("OPSBOT_DATABASE_URL", database_url)
    runner = CliRunner()
    shown = runner.invoke(cli, ["inbox", "list"])
    assert shown.exit_code == 0
    assert f"{poisoned.id}\t" in shown.output
    _cure(db)
    assert runner.invoke(cli, ["inbox", "retry", str(poisoned.id)]).exit_code == 0
    pipeline.drain()
    wait_until(lambda: "PoisonAlert" in stored_names(db), 15, "the retried row was not ingested")
    assert inbox.set_aside(db) == []
    refused = runner.invoke(cli, ["inbox", "drop", str(poisoned.id)])
    assert refused.exit_code == 1
    assert "not set aside" in refused.output


def test_a_set_aside_row_can_be_dropped_and_start_up_survives_a_bad_row(
    slack: SlackWorkspace, database_url: str
) -> None:
    with running_bot(slack, database_url=database_url, alertmanager={"bearer_token": TOKEN}) as bot:
        db = bot.bot.deps.db
        _poison(db, "PoisonAtStart")
    # The bot is stopped; a bad row waits in the inbox for the next start.
    with db.session() as session:
        session.add(AlertInbox(body=json.dumps(webhook(alert("PoisonAtStart", datetime.now(UTC))))))
    with running_bot(slack, database_url=database_url, alertmanager={"bearer_token": TOKEN}) as bot:
        db = bot.bot.deps.db
        post(bot, webhook(alert("AfterRestart", datetime.now(UTC))))
        wait_until(lambda: "AfterRestart" in stored_names(db), 15, "intake wedged after restart")
        for _ in range(inbox.MAX_ATTEMPTS):
            _make_due(db)
            bot.bot.runtime.pipeline.drain()
        (held,) = inbox.set_aside(db)
        status = status_text(
            bot.bot.runtime.remediation.parts, inbox_status(bot.bot.runtime.deps.db)
        )
        assert "1 set aside" in status
        assert f"`{held.id}` after {inbox.MAX_ATTEMPTS} attempts" in status
        inbox.drop(db, held.id, who="tester")
        assert "nothing set aside" in status_text(
            bot.bot.runtime.remediation.parts, inbox_status(bot.bot.runtime.deps.db)
        )
        assert inbox.set_aside(db) == []
        with db.session() as session:
            row = session.get(AlertInbox, held.id)
        assert row is not None
        assert row.error is not None
        assert row.error.startswith("dropped by")


def test_drains_racing_in_one_process_ingest_every_alert_once_without_a_failed_attempt(
    intake: RunningBot,
) -> None:
    """An explicit drain (the capacity scan's) while the loop drains: on SQLite both used to
    take the same rows and one commit was refused, counting a failure against the alert."""
    pipeline = intake.bot.runtime.pipeline
    names = [f"Racing{i}" for i in range(24)]
    start = threading.Barrier(4)

    def drain(mine: list[str]) -> None:
        start.wait()
        for name in mine:
            pipeline.accept(json.dumps(webhook(alert(name, datetime.now(UTC)))).encode())
            pipeline.drain()

    threads = [threading.Thread(target=drain, args=(names[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    db = intake.bot.deps.db
    wait_until(lambda: set(names) <= stored_names(db), 15, "every racing alert stored")
    with db.session() as session:
        rows = session.exec(select(AlertInbox)).all()
        assert [r for r in rows if r.error is not None or r.dead_at is not None] == []
        assert {r.attempts for r in rows} == {1}
        assert len(session.exec(select(Alert)).all()) == len(names)
