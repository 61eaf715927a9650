from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import httpx
import pytest

from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot


def command_body(text: str = "help", command: str = "/ask-ai") -> bytes:
    return urlencode(
        {
            "token": "x",
            "team_id": "T0OPSBOT",
            "team_domain": "opsbot-dev",
            "channel_id": "C1",
            "channel_name": "general",
            "user_id": "U0ALICE",
            "user_name": "alice",
            "command": command,
            "text": text,
            "api_app_id": "A0OPSBOT",
            "response_url": "http://127.0.0.1:1/response/x",
            "trigger_id": "1.2.3",
        }
    ).encode()


def post(bot: RunningBot, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{bot.url}/slack/events", content=body, headers=headers, timeout=10)


def test_ask_ai_help_answers_with_usage_inside_the_ack(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    result = slack.slash_command("U0ALICE", "general", "/ask-ai", "help")
    assert result.ok
    assert result.payload is not None
    assert "/ask-ai &lt;question&gt;" in json.dumps(result.payload["blocks"])
    notes = slack.wait_for(lambda: slack.ephemerals("U0ALICE"))
    assert any("Ask opsbot" in json.dumps(n) for n in notes)


@pytest.mark.parametrize("command", ["/ask-ai", "/incident", "/opsbot"])
def test_every_declared_command_is_handled(
    slack: SlackWorkspace, bot: RunningBot, command: str
) -> None:
    result = slack.slash_command("U0BOB", "general", command, "help")
    assert result.status == 200
    assert result.payload is not None
    assert result.payload.get("blocks")


def test_an_unsigned_request_is_refused_with_401(bot: RunningBot) -> None:
    response = post(bot, command_body(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 401
    assert response.json()["error"] == "unsigned"


def test_a_request_signed_with_the_wrong_secret_is_refused(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    body = command_body()
    response = post(bot, body, slack.signed_headers(body, secret="not-the-secret"))
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"


def test_a_stale_request_is_refused_even_when_correctly_signed(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    body = command_body()
    response = post(bot, body, slack.signed_headers(body, timestamp=int(time.time()) - 301))
    assert response.status_code == 401
    assert response.json()["error"] == "stale"


def test_a_replayed_request_is_refused(slack: SlackWorkspace, bot: RunningBot) -> None:
    body = command_body()
    headers = slack.signed_headers(body)
    assert post(bot, body, headers).status_code == 200
    replay = post(bot, body, headers)
    assert replay.status_code == 401
    assert replay.json()["error"] == "replayed"


def test_a_tampered_body_fails_the_signature(slack: SlackWorkspace, bot: RunningBot) -> None:
    headers = slack.signed_headers(command_body("help"))
    assert post(bot, command_body("delete everything"), headers).status_code == 401


@pytest.mark.parametrize(
    ("body", "content_type", "status", "problem"),
    [
        (
            b"payload=%7Bnot-json",
            "application/x-www-form-urlencoded",
            400,
            "'payload' is not valid JSON",
        ),
        (b'{"no": "type"}', "application/json", 400, "no 'type' field"),
        (b"{", "application/json", 400, "not valid JSON"),
        (
            b"user_id=U1",
            "application/x-www-form-urlencoded",
            400,
            "neither 'command' nor 'payload'",
        ),
        (b"<xml/>", "text/xml", 415, "unsupported content type"),
    ],
)
def test_a_malformed_signed_request_gets_a_4xx_naming_the_problem(
    slack: SlackWorkspace,
    bot: RunningBot,
    body: bytes,
    content_type: str,
    status: int,
    problem: str,
) -> None:
    response = post(bot, body, slack.signed_headers(body, content_type=content_type))
    assert response.status_code == status
    assert problem in response.json()["message"]


def test_refused_requests_are_logged_without_their_body(
    slack: SlackWorkspace,
    bot: RunningBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = command_body("my-secret-question-text")
    post(bot, body, slack.signed_headers(body, secret="wrong"))
    err = caplog.text
    assert "slack request refused" in err
    assert "my-secret-question-text" not in err


def test_mentioning_the_bot_gets_a_reply_in_a_thread(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    text = f"hey <@{slack.bot_user_id}> what can you do?"
    message = slack.post_message("U0ALICE", "incidents", text)
    replies = slack.wait_for(
        lambda: [m for m in slack.thread("incidents", message["ts"]) if m.get("bot_id")], timeout=10
    )
    assert "Here is what I can do" in replies[0]["text"]


def test_a_redelivered_event_is_handled_once(slack: SlackWorkspace, bot: RunningBot) -> None:
    message = slack.post_message("U0ALICE", "incidents", f"<@{slack.bot_user_id}> hi")
    slack.wait_for(lambda: [m for m in slack.thread("incidents", message["ts"]) if m.get("bot_id")])
    # the emulator records a delivery when its ack returns, which may be after the reply
    delivered = slack.wait_for(
        lambda: [
            d.request
            for d in slack.deliveries()
            if d.request.get("event", {}).get("type") == "app_mention"
        ]
    )
    body = json.dumps(delivered[0]).encode()
    now = int(time.time())  # one clock reading: each retry's timestamp, so signature, differs
    for retry in (1, 2, 3):  # Slack's retries: same event_id, new signature
        headers = slack.signed_headers(
            body, content_type="application/json", timestamp=now - 10 - retry
        )
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
        assert post(bot, body, headers).status_code == 200
    time.sleep(1.0)
    replies = [m for m in slack.thread("incidents", message["ts"]) if m.get("bot_id")]
    assert len(replies) == 1


def test_health_readiness_and_metrics_endpoints_answer(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    slack.slash_command("U0ALICE", "general", "/ask-ai", "help")
    assert httpx.get(f"{bot.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{bot.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "cache": "ok"}
    metrics = httpx.get(f"{bot.url}/metrics").text
    assert 'opsbot_slack_requests_total{kind="slash_command",outcome="accepted"}' in metrics
    assert "opsbot_handler_latency_seconds_bucket" in metrics
    assert "opsbot_queue_depth" in metrics
