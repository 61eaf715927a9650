"""What arrives at the request URL: signatures, content types, payload shapes, event retries."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.serve import ServerThread
from sandbox.slack import SlackConfig, SlackWorkspace

from .conftest import FAST_RETRIES


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class RecordingBot:
    """A request URL that records requests and answers from a script of (status, delay)."""

    script: list[tuple[int, float]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.received.append(Received(body, dict(request.headers)))
            status, delay = self.script.pop(0) if self.script else (200, 0.0)
        if delay:
            await asyncio.sleep(delay)
        return Response(status_code=status)


@pytest.fixture
def recorded() -> Iterator[tuple[SlackWorkspace, RecordingBot]]:
    bot = RecordingBot()
    server = ServerThread(
        Starlette(routes=[Route("/slack/events", bot.endpoint, methods=["POST"])])
    )
    config = SlackConfig(
        bot_url=f"{server.url}/slack/events",
        event_retry_delays_s=FAST_RETRIES,
        ack_timeout_s=0.5,
        deliver_own_messages=False,
    )
    ws = SlackWorkspace(config)
    ws.serve()
    server.start()
    yield ws, bot
    ws.close()
    server.stop()


def test_every_request_is_signed_so_slack_sdks_verifier_accepts_it(
    recorded: tuple[SlackWorkspace, RecordingBot],
) -> None:
    ws, bot = recorded
    verifier = SignatureVerifier(ws.config.signing_secret)

    ws.slash_command("U0ALICE", "incidents", "/ask-ai", "help")
    ws.post_message("U0ALICE", "incidents", "hello")
    ws.wait_for(lambda: len(bot.received) == 2)

    for request in bot.received:
        assert verifier.is_valid_request(request.body, request.headers)
        assert request.headers["user-agent"].startswith("Slackbot 1.0")
    assert not SignatureVerifier("other-secret").is_valid_request(
        bot.received[0].body, bot.received[0].headers
    )


def test_a_slash_command_is_a_form_with_slacks_fields_in_order(
    recorded: tuple[SlackWorkspace, RecordingBot],
) -> None:
    ws, bot = recorded

    ws.slash_command("U0BOB", "incidents", "/ask-ai", "help me")

    request = bot.received[0]
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.body.decode(), keep_blank_values=True).items()}
    assert list(form) == [
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
        "command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id",
    ]  # fmt: skip
    assert (form["command"], form["text"], form["user_id"]) == ("/ask-ai", "help me", "U0BOB")


def test_a_message_event_is_a_json_event_callback_envelope(
    recorded: tuple[SlackWorkspace, RecordingBot],
) -> None:
    ws, bot = recorded

    posted = ws.post_message("U0CAROL", "incidents", "disk full on db-1")
    ws.wait_for(lambda: bot.received)

    request = bot.received[0]
    assert request.headers["content-type"] == "application/json"
    envelope = json.loads(request.body)
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"].startswith("Ev")
    assert envelope["authorizations"][0]["user_id"] == "U0BOT"
    event = envelope["event"]
    assert (event["type"], event["channel_type"], event["ts"]) == (
        "message",
        "channel",
        posted["ts"],
    )
    assert event["blocks"][0]["type"] == "rich_text"


def test_failed_events_are_retried_with_retry_headers_and_a_fresh_signature(
    recorded: tuple[SlackWorkspace, RecordingBot],
) -> None:
    ws, bot = recorded
    bot.script = [(500, 0.0), (200, 0.8), (200, 0.0)]

    ws.post_message("U0CAROL", "incidents", "again?")
    ws.wait_for(lambda: ws.deliveries("events_api"), timeout=10)

    assert len(bot.received) == 3
    first, *retries = bot.received
    assert "x-slack-retry-num" not in first.headers
    assert [
        (r.headers["x-slack-retry-num"], r.headers["x-slack-retry-reason"]) for r in retries
    ] == [
        ("1", "http_error"),
        ("2", "http_timeout"),
    ]
    assert len({json.loads(r.body)["event_id"] for r in bot.received}) == 1
    verifier = SignatureVerifier(ws.config.signing_secret)
    assert all(verifier.is_valid_request(r.body, r.headers) for r in retries)
    assert ws.deliveries("events_api")[0].result.attempts == 3


def test_events_are_retried_three_times_at_most(
    recorded: tuple[SlackWorkspace, RecordingBot],
) -> None:
    ws, bot = recorded
    bot.script = [(503, 0.0)] * 10

    ws.post_message("U0CAROL", "incidents", "anyone?")
    delivery = ws.wait_for(lambda: ws.deliveries("events_api"), timeout=10)[0]

    assert (delivery.result.attempts, delivery.result.status) == (4, 503)
    assert len(bot.received) == 4
