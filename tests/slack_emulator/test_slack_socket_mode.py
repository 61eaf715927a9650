"""Socket Mode with slack_bolt's SocketModeHandler (builtin client) against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import Ack, App, Say
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack import SlackConfig, SlackWorkspace

from .conftest import FAST_RETRIES


@pytest.fixture(scope="module")
def socket_app() -> Iterator[tuple[SlackWorkspace, App]]:
    """One connected app for the module: the builtin client takes seconds to shut down."""
    ws = SlackWorkspace(
        SlackConfig(delivery="socket", bot_url=None, event_retry_delays_s=FAST_RETRIES)
    )
    ws.serve()
    app = App(client=WebClient(token=ws.config.bot_token, base_url=ws.api_url))

    @app.event("message")
    def ignore_plain_messages() -> None:
        return None

    handler = SocketModeHandler(app, app_token=ws.config.app_token)
    handler.connect()  # type: ignore[no-untyped-call]
    assert ws.hub.connected.wait(10)
    yield ws, app
    handler.close()  # type: ignore[no-untyped-call]
    ws.close()


def test_a_slash_command_envelope_is_acked_with_the_apps_payload(
    socket_app: tuple[SlackWorkspace, App],
) -> None:
    ws, app = socket_app
    seen: list[dict[str, Any]] = []

    @app.command("/ask-ai")
    def ask(ack: Ack, command: dict[str, Any]) -> None:
        seen.append(command)
        ack(text="On it")

    result = ws.slash_command("U0ALICE", "incidents", "/ask-ai", "status")

    assert (result.status, result.payload) == (200, {"text": "On it"})
    assert seen[0]["text"] == "status"
    assert [e["text"] for e in ws.ephemerals("U0ALICE")] == ["On it"]


def test_an_app_mention_arrives_over_the_socket_and_the_app_replies(
    socket_app: tuple[SlackWorkspace, App],
) -> None:
    ws, app = socket_app

    @app.event("app_mention")
    def answer(event: dict[str, Any], say: Say) -> None:
        say(text="Here", thread_ts=event["ts"])

    asked = ws.post_message("U0BOB", "incidents", "<@U0BOT> you there?")

    ws.wait_for(lambda: len(ws.thread("incidents", asked["ts"])) == 2)
    opened = ws.calls("apps.connections.open")
    assert opened[0].status == 200
    assert opened[0].response["url"].startswith("ws://127.0.0.1:")


def test_apps_connections_open_wants_the_app_level_token(
    socket_app: tuple[SlackWorkspace, App],
) -> None:
    ws, _ = socket_app
    bot = WebClient(token=ws.config.bot_token, base_url=ws.api_url)

    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        bot.apps_connections_open(app_token=ws.config.bot_token)
