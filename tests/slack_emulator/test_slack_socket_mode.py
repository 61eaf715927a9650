"""Socket Mode with slack_bolt's SocketModeHandler (builtin client) against the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import websocket
from slack_bolt import Ack, App, Say
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack import SlackConfig, SlackWorkspace
from sandbox.slack.socket_mode import NoSocketConnection

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


def _open_raw_socket(ws: SlackWorkspace) -> websocket.WebSocket:
    url = WebClient(token=ws.config.app_token, base_url=ws.api_url).apps_connections_open(
        app_token=ws.config.app_token
    )["url"]
    sock = websocket.create_connection(url, timeout=5)
    return sock


def test_slack_warns_then_asks_for_a_refresh_and_stops_delivering_on_that_socket() -> None:
    ws = SlackWorkspace(
        SlackConfig(
            delivery="socket", bot_url=None, socket_warning_s=0.1, socket_refresh_close_s=0.3
        )
    )
    ws.serve()
    try:
        first, second = _open_raw_socket(ws), _open_raw_socket(ws)
        hellos = [json.loads(first.recv()), json.loads(second.recv())]
        assert [h["num_connections"] for h in hellos] == [1, 2]
        old, new = ws.hub.connection_ids()

        ws.hub.refresh(old)
        frames = [json.loads(first.recv()), json.loads(first.recv())]

        assert [(f["type"], f["reason"]) for f in frames] == [
            ("disconnect", "warning"),
            ("disconnect", "refresh_requested"),
        ]
        assert ws.hub.connection_ids() == [new]
        with pytest.raises(NoSocketConnection):
            ws.hub.send({"envelope_id": "e1", "type": "events_api", "payload": {}}, 1, old)
        assert first.recv() == ""  # closed by Slack after the grace period
    finally:
        ws.close()


def test_an_abrupt_drop_ends_the_socket_without_a_close_frame() -> None:
    ws = SlackWorkspace(SlackConfig(delivery="socket", bot_url=None))
    ws.serve()
    try:
        sock = _open_raw_socket(ws)
        sock.recv()  # hello
        ws.hub.drop()
        # a close frame would make recv() return ""; a reset raises instead
        with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
            sock.recv()
        assert ws.hub.connection_count == 0
    finally:
        ws.close()
