from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.store.incidents import AlertInbox, Incident
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot
from tests.incidents.amfixtures import alert, fixture, webhook

TOKEN = "am-webhook-token-123"


@pytest.fixture
def guarded_bot(slack: SlackWorkspace, tmp_path: Path) -> Iterator[RunningBot]:
    with running_bot(
        slack,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        alertmanager={"bearer_token": TOKEN, "max_body_bytes": 200_000},
    ) as bot:
        yield bot


def send(
    bot: RunningBot, body: Any, token: str | None = TOKEN, raw: bytes | None = None
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(f"{bot.url}/alertmanager", content=content, headers=headers, timeout=10)


def inbox_rows(bot: RunningBot) -> int:
    with bot.bot.deps.db.session() as session:
        return len(session.exec(select(AlertInbox)).all())


def test_a_firing_alert_opens_an_incident_thread_with_header_and_triage(
    slack: SlackWorkspace, guarded_bot: RunningBot
) -> None:
    assert send(guarded_bot, fixture("firing-from-prometheus-rule.json")).status_code == 200
    header = slack.wait_for(
        lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=10
    )[0]
    text = json.dumps(header["blocks"])
    assert "checkout 5xx ratio above 5%" in text
    for button in ("incident_ack", "incident_investigate", "incident_silence", "incident_resolve"):
        assert button in text
    assert "runbooks/high-error-rate" in text
    assert "Prometheus graph" in text
    triage = slack.wait_for(
        lambda: [
            m
            for m in slack.thread("incidents", header["ts"])
            if m.get("bot_id") and m["ts"] != header["ts"]
        ],
        timeout=10,
    )
    assert "First triage" in json.dumps(triage[0]["blocks"])
    with guarded_bot.bot.deps.db.session() as session:
        incident = session.exec(select(Incident)).one()
    assert incident.thread_ts == header["ts"]


def test_resolution_edits_the_header_and_posts_a_note(
    slack: SlackWorkspace, guarded_bot: RunningBot
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    firing = alert(
        "HighErrorRate", start, namespace="prod", service="checkout", severity="critical"
    )
    send(guarded_bot, webhook(firing))
    header = slack.wait_for(
        lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=10
    )[0]
    resolved = alert(
        "HighErrorRate",
        start,
        status="resolved",
        ends=datetime.now(UTC),
        namespace="prod",
        service="checkout",
        severity="critical",
    )
    send(guarded_bot, webhook(resolved))
    slack.wait_for(
        lambda: any(
            "Resolved" in json.dumps(m.get("blocks", []))
            for m in slack.thread("incidents", header["ts"])
        ),
        timeout=10,
    )
    slack.wait_for(
        lambda: (
            "[Resolved]"
            in next(m for m in slack.messages("incidents") if m["ts"] == header["ts"])["text"]
        ),
        timeout=10,
    )


def test_wrong_or_missing_credentials_get_401_and_nothing_is_stored(
    guarded_bot: RunningBot,
) -> None:
    body = fixture("firing-from-api-v2-alerts.json")
    assert send(guarded_bot, body, token=None).status_code == 401
    assert send(guarded_bot, body, token="wrong").status_code == 401
    assert inbox_rows(guarded_bot) == 0


def test_a_body_over_the_limit_gets_413(guarded_bot: RunningBot) -> None:
    assert send(guarded_bot, None, raw=b"{" + b" " * 300_000 + b"}").status_code == 413
    assert inbox_rows(guarded_bot) == 0


@pytest.mark.parametrize(
    ("mutate", "status", "names"),
    [
        (lambda b: b.update(alerts=[]), 422, "alerts"),
        (lambda b: b["alerts"][0]["labels"].pop("alertname"), 422, "alerts.0.labels"),
        (lambda b: b["alerts"][0].update(startsAt="yesterday"), 422, "alerts.0.startsAt"),
        (lambda b: b.update(status="burning"), 422, "status"),
    ],
)
def test_an_invalid_payload_gets_422_naming_the_field(
    guarded_bot: RunningBot, mutate: Any, status: int, names: str
) -> None:
    body = fixture("firing-from-api-v2-alerts.json")
    mutate(body)
    response = send(guarded_bot, body)
    assert response.status_code == status
    assert response.json()["error"].startswith(names)
    assert inbox_rows(guarded_bot) == 0


def test_malformed_json_gets_400(guarded_bot: RunningBot) -> None:
    response = send(guarded_bot, None, raw=b'{"receiver": ')
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_duplicate_deliveries_open_one_thread(
    slack: SlackWorkspace, guarded_bot: RunningBot
) -> None:
    body = fixture("prometheus-msteams/prom_post_request_12_alerts.json")
    for _ in range(4):  # Alertmanager retries and an HA pair deliver the same group
        assert send(guarded_bot, body).status_code == 200
    slack.wait_for(lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=10)
    guarded_bot.bot.runtime.pipeline.drain()
    with guarded_bot.bot.deps.db.session() as session:
        incidents = session.exec(select(Incident)).all()
    headers = [m for m in slack.messages("incidents") if m.get("bot_id")]
    assert len(headers) == len(incidents)
