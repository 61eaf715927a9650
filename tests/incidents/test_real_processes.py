"""Alerts through a real Alertmanager into real bot processes sharing PostgreSQL and Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from bot.settings import DatabaseSettings
from bot.store.db import Database
from bot.store.incidents import Alert, AlertInbox, Incident
from sandbox.procs.alertmanager import alert, alertmanager_config, start_alertmanager
from sandbox.procs.process import free_port
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import running_bot
from tests.botprocess import BotProcess
from tests.conftest import REDIS_URL, drop_pg, fresh_pg_url


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = fresh_pg_url()
    Database(DatabaseSettings(url=url)).upgrade()
    yield url
    drop_pg(url)


def headers_in(slack: SlackWorkspace) -> list[dict[str, object]]:
    return [m for m in slack.messages("incidents") if m.get("bot_id")]


def test_real_alertmanager_alerts_open_a_thread_and_silence_is_real(
    slack: SlackWorkspace, pg_url: str
) -> None:
    am_port = free_port()  # the bot is told where Alertmanager is when it is built
    with (
        running_bot(
            slack, database_url=pg_url, alertmanager={"url": f"http://127.0.0.1:{am_port}"}
        ) as bot,
        start_alertmanager(webhook_url=f"{bot.url}/alertmanager", port=am_port) as am,
    ):
        am.post_alerts(
            [
                alert(
                    "HighErrorRate",
                    {"namespace": "prod", "service": "checkout", "severity": "critical"},
                    {
                        "summary": "checkout 5xx ratio above 5%",
                        "runbook_url": "https://runbooks.example/5xx",
                    },
                ),
                alert(
                    "HighLatency",
                    {"namespace": "prod", "service": "checkout", "severity": "warning"},
                ),
            ]
        )
        header = slack.wait_for(lambda: headers_in(slack), timeout=20)[0]
        assert "checkout" in json.dumps(header["blocks"])
        slack.click_button("U0ALICE", "incidents", str(header["ts"]), "incident_silence")
        silences = slack.wait_for(
            lambda: [
                s
                for s in httpx.get(f"{am.url}/api/v2/silences").json()
                if s["status"]["state"] == "active"
            ],
            timeout=10,
        )
        assert {m["name"] for m in silences[0]["matchers"]} >= {"alertname", "service"}
    db = Database(DatabaseSettings(url=pg_url))
    with db.session() as session:
        assert len(session.exec(select(Incident)).all()) == 1
        assert len(session.exec(select(Alert)).all()) == 2
    db.dispose()


def test_two_replicas_receiving_the_same_webhooks_open_one_thread_per_incident(
    slack: SlackWorkspace, pg_url: str, tmp_path: Path
) -> None:
    env = {"OPSBOT_DATABASE_URL": pg_url, "OPSBOT_REDIS_URL": REDIS_URL}
    replicas = [BotProcess(slack, tmp_path, **env).start() for _ in range(2)]
    try:
        config = alertmanager_config(None)
        config["receivers"][0]["webhook_configs"] = [
            {"url": f"{r.url}/alertmanager", "send_resolved": True} for r in replicas
        ]
        with start_alertmanager(config=config) as am:
            am.post_alerts(
                [
                    alert(name, {"namespace": "prod", "service": service, "severity": "critical"})
                    for name in ("HighErrorRate", "HighLatency", "PodCrashLooping")
                    for service in ("checkout", "payments", "search")
                ]
            )
            slack.wait_for(lambda: len(headers_in(slack)) >= 3, timeout=30)
            db = Database(DatabaseSettings(url=pg_url))
            slack.wait_for(lambda: _all_processed(db), timeout=30)
            with db.session() as session:
                incidents = session.exec(select(Incident)).all()
                assert sorted(i.service for i in incidents) == ["checkout", "payments", "search"]
                assert len(session.exec(select(Alert)).all()) == 9
                assert all(i.thread_ts for i in incidents)
            db.dispose()
        assert len(headers_in(slack)) == 3
    finally:
        for replica in replicas:
            replica.stop()


def _all_processed(db: Database) -> bool:
    with db.session() as session:
        rows = session.exec(select(AlertInbox)).all()
        return bool(rows) and all(r.processed_at is not None for r in rows)


def test_a_bot_killed_after_accepting_alerts_processes_them_after_restart(
    slack: SlackWorkspace, pg_url: str, tmp_path: Path
) -> None:
    env = {"OPSBOT_DATABASE_URL": pg_url}
    first = BotProcess(slack, tmp_path, **env).start()
    bodies = []
    for n in range(40):
        labels = {"alertname": f"Alert{n % 4}", "namespace": "prod", "service": f"svc-{n % 8}"}
        bodies.append(
            {
                "receiver": "opsbot",
                "status": "firing",
                "version": "4",
                "groupKey": f'{{}}:{{alertname="Alert{n % 4}"}}',
                "externalURL": "http://am",
                "alerts": [
                    {
                        "labels": {**labels, "pod": f"svc-{n % 8}-abc123def-x{n:04d}"},
                        "annotations": {},
                        "startsAt": "2026-11-23T09:00:00Z",
                        "endsAt": "0001-01-01T00:00:00Z",
                        "generatorURL": "",
                    }
                ],
            }
        )
    with httpx.Client(timeout=10) as client:
        for body in bodies:
            assert client.post(f"{first.url}/alertmanager", json=body).status_code == 200
    first.kill()
    db = Database(DatabaseSettings(url=pg_url))
    with db.session() as session:
        accepted = len(session.exec(select(AlertInbox)).all())
        left = len(
            session.exec(select(AlertInbox).where(col(AlertInbox.processed_at).is_(None))).all()
        )
    assert accepted == 40
    second = BotProcess(slack, tmp_path, **env).start()
    try:
        slack.wait_for(lambda: _all_processed(db), timeout=30)
        # Incidents whose thread lease the killed process held wait for it to expire (20 s).
        slack.wait_for(lambda: len(headers_in(slack)) >= 8, timeout=60)
        with db.session() as session:
            assert len(session.exec(select(Alert)).all()) == 40
            incidents = session.exec(select(Incident)).all()
            assert len(incidents) == 8
        slack.wait_for(lambda: _threads_posted(db), timeout=60)
        assert len(headers_in(slack)) == 8
    finally:
        second.stop()
        db.dispose()
    print(f"inbox rows left unprocessed at SIGKILL: {left}")


def _threads_posted(db: Database) -> bool:
    with db.session() as session:
        return all(i.thread_ts for i in session.exec(select(Incident)).all())
