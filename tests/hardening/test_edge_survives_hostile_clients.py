"""The HTTP edge survives hostile clients: sizes refused before reading, UTF-8 only,
4xx for malformed Slack payloads, and Slack's housekeeping requests answered."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import httpx

from sandbox.slack.signing import signed_headers
from tests.botharness import SIGNING_SECRET, RunningBot
from tests.incidents.amfixtures import alert, webhook

FORM = "application/x-www-form-urlencoded"


def post_slack(bot: RunningBot, body: bytes, content_type: str = FORM) -> httpx.Response:
    headers = signed_headers(SIGNING_SECRET, body, content_type, int(time.time()))
    headers["Content-Type"] = content_type
    return httpx.post(f"{bot.url}/slack/events", content=body, headers=headers, timeout=10)


def test_a_signed_ssl_check_is_answered_200(bot: RunningBot) -> None:
    answer = post_slack(bot, urlencode({"ssl_check": "1", "token": "x"}).encode())
    assert answer.status_code == 200


def test_an_app_rate_limited_event_is_acknowledged(bot: RunningBot) -> None:
    body = {
        "type": "app_rate_limited",
        "token": "x",
        "team_id": "T0001",
        "minute_rate_limited": int(time.time()) // 60 * 60,
        "api_app_id": "A0001",
    }
    answer = post_slack(bot, json.dumps(body).encode(), "application/json")
    assert answer.status_code == 200


def test_a_view_submission_whose_view_has_no_type_is_a_400(bot: RunningBot) -> None:
    payload = {
        "type": "view_submission",
        "user": {"id": "U0ALICE"},
        "team": {"id": "T0001"},
        "view": {"id": "V1", "callback_id": "deny_reason", "state": {"values": {}}},
    }
    answer = post_slack(bot, urlencode({"payload": json.dumps(payload)}).encode())
    assert answer.status_code == 400
    assert "view" in answer.json()["message"]


def test_a_webhook_in_another_charset_is_refused_415_before_it_is_stored(
    bot: RunningBot,
) -> None:
    body = json.dumps(webhook(alert("Utf16", datetime.now(UTC)))).encode("utf-16")
    answer = httpx.post(
        f"{bot.url}/alertmanager",
        content=body,
        headers={"Content-Type": "application/json; charset=utf-16"},
        timeout=10,
    )
    assert answer.status_code == 415
    assert "utf-8" in answer.json()["error"]
    assert bot.bot.runtime.pipeline.pending() == 0


def test_an_oversized_slack_body_is_refused_on_its_declared_length_unread(
    bot: RunningBot,
) -> None:
    """A client declares 100 MB and sends a few bytes: refused at once, not awaited."""
    parts = urlsplit(bot.url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 10) as conn:
        conn.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100000000\r\n\r\npayload="
        )
        conn.settimeout(10)
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413")


def test_a_click_whose_value_slack_could_not_have_sent_is_a_400(bot: RunningBot) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE"},
        "team": {"id": "T0001"},
        "actions": [{"type": "button", "action_id": "action_approve", "value": "v" * 10_000}],
    }
    answer = post_slack(bot, urlencode({"payload": json.dumps(payload)}).encode())
    assert answer.status_code == 400
    assert "2000" in answer.json()["message"]
