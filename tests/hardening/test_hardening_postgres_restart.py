"""PostgreSQL restarted (and stopped for seconds) in the middle of an alert storm against a
real `opsbot run`: every webhook is either accepted or told to retry (503 + Retry-After),
never answered 500; after recovery every accepted alert is stored, each problem has one
incident and one Slack thread, and /readyz said the database was down while it was."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
from sqlmodel import select

from bot.settings import DatabaseSettings
from bot.store.db import Database
from bot.store.incidents import Incident
from sandbox.slack.workspace import SlackWorkspace
from tests.botprocess import BotProcess
from tests.conftest import REDIS_URL, wait_until
from tests.hardening.alertstorm import (
    StormSender,
    fingerprints,
    stored_fingerprints,
    storm_bodies,
    storm_settled,
)
from tests.hardening.private_postgres import PrivatePostgres

PROBLEMS = ["checkout", "payments", "search"]
WEBHOOKS = 90


def readiness(url: str) -> tuple[int, dict[str, str]]:
    try:
        response = httpx.get(f"{url}/readyz", timeout=5)
    except httpx.TransportError as exc:
        return 0, {"error": type(exc).__name__}
    checks: dict[str, str] = response.json().get("checks", {})
    return response.status_code, checks


def headers_in(slack: SlackWorkspace) -> list[dict[str, object]]:
    return [m for m in slack.messages("incidents") if m.get("bot_id")]


def test_postgres_restarted_and_stopped_mid_storm_loses_no_accepted_alert(
    slack: SlackWorkspace, private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    pg = private_postgres
    bot = BotProcess(
        slack,
        tmp_path,
        OPSBOT_DATABASE_URL=pg.url,
        OPSBOT_REDIS_URL=REDIS_URL,
        OPSBOT_REDIS_KEY_PREFIX=f"opsbot-hardening-{uuid.uuid4().hex[:8]}:",
    ).start()
    bodies = storm_bodies(PROBLEMS, WEBHOOKS)
    sender = StormSender(f"{bot.url}/alertmanager", bodies)
    timings: dict[str, float] = {}
    try:
        began = time.monotonic()
        sender.start()
        sender.wait_for_progress(WEBHOOKS // 4)
        pg.restart()  # pg_ctl restart -m fast: every pooled connection dies
        timings["restart"] = time.monotonic() - began
        sender.wait_for_progress(WEBHOOKS // 2)
        pg.stop()
        stopped = time.monotonic()
        wait_until(
            lambda: readiness(bot.url)[1].get("database", "").startswith("down"),
            10,
            "/readyz never reported the database down",
        )
        status, checks = readiness(bot.url)
        assert status == 503
        assert checks["cache"] == "ok"
        time.sleep(3)  # the storm goes on against a stopped database
        pg.start()
        timings["outage"] = time.monotonic() - stopped
        wait_until(lambda: readiness(bot.url)[0] == 200, 20, "/readyz not ready after restart")
        sender.join()
        timings["storm"] = time.monotonic() - began

        assert sender.failed == []
        assert sorted(sender.accepted) == list(range(WEBHOOKS))
        assert 500 not in sender.statuses
        assert sender.statuses[503] > 0  # the outage was seen, and answered "retry"
        assert sender.retry_after_missing == 0
        assert set(sender.statuses) <= {200, 503}

        db = Database(DatabaseSettings(url=pg.url))
        try:
            wait_until(lambda: storm_settled(db), 60, "inbox not drained or threads not posted")
            timings["settled"] = time.monotonic() - began
            with db.session() as session:
                incidents = session.exec(select(Incident)).all()
            stored = stored_fingerprints(db)
        finally:
            db.dispose()
        assert stored == fingerprints(bodies)
        assert sorted(i.service for i in incidents) == PROBLEMS
        threads = {i.thread_ts for i in incidents}
        assert len(threads) == len(PROBLEMS)
        assert {str(m["ts"]) for m in headers_in(slack)} == threads
    finally:
        bot.stop()
    print(f"statuses={dict(sender.statuses)} timings={timings}")
    # The inbox worker paused during the outage instead of failing (or spinning on it).
    log = bot.log_path.read_text()
    assert "alert inbox drain failed" not in log
    assert log.count("inbox batch retried") < 20
