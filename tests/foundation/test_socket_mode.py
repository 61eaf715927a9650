from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.slack.socket_mode import UnansweredPing, control_frame, envelope_problem, retire_now
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot, workspace


def test_in_socket_mode_commands_and_mentions_arrive_over_the_websocket(tmp_path: Path) -> None:
    ws = workspace(delivery="socket")
    try:
        with running_bot(
            ws,
            database_url=f"sqlite:///{tmp_path / 'bot.db'}",
            slack={"app_token": ws.config.app_token, "signing_secret": None},
        ) as bot:
            result = ws.slash_command("U0ALICE", "incidents", "/ask-ai", "help")
            assert result.ok
            assert result.payload is not None
            assert "/ask-ai &lt;question&gt;" in json.dumps(result.payload)
            message = ws.post_message("U0BOB", "incidents", f"<@{ws.bot_user_id}> hello")
            ws.wait_for(
                lambda: [m for m in ws.thread("incidents", message["ts"]) if m.get("bot_id")],
                timeout=10,
            )
            # HTTP mode's Slack endpoint is not served at all in Socket Mode.
            assert httpx.post(f"{bot.url}/slack/events", content=b"{}").status_code == 404
            assert ws.calls("apps.connections.open")
    finally:
        ws.close()


def _hub_ack(ws: SlackWorkspace, envelope: dict[str, object], timeout: float = 3.0) -> float | None:
    """Seconds until the bot acked `envelope` on any open socket (None: never)."""
    start = time.monotonic()
    ack = ws.hub.send(envelope, timeout)
    return None if ack is None else time.monotonic() - start


def _command_envelope() -> dict[str, object]:
    return {
        "envelope_id": str(uuid.uuid4()),
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "team_id": "T0OPSBOT",
            "channel_id": "C0INCIDENTS",
            "user_id": "U0ALICE",
            "command": "/ask-ai",
            "text": "help",
            "response_url": "http://127.0.0.1:9/response",
            "trigger_id": "1.2.3",
        },
    }


# Slack's lead from `warning` to `refresh_requested`, and how long it then keeps the socket
# open before closing it itself (shortened from Slack's ~10 s to keep tests short).
WARNING_S = 0.2
SLACK_GRACE_S = 2.0


@pytest.fixture
def socket_bot(tmp_path: Path) -> Iterator[tuple[SlackWorkspace, RunningBot]]:
    """The real bot in Socket Mode, with Slack's refresh timings shortened."""
    ws = workspace(
        delivery="socket", socket_warning_s=WARNING_S, socket_refresh_close_s=SLACK_GRACE_S
    )
    try:
        with running_bot(
            ws,
            database_url=f"sqlite:///{tmp_path / 'bot.db'}",
            slack={"app_token": ws.config.app_token, "signing_secret": None},
        ) as bot:
            # slack_sdk's monitor may replace the first socket once at start-up; settle first
            ws.wait_for(lambda: ws.hub.connection_count == 1, timeout=10)
            time.sleep(1.0)
            ws.wait_for(lambda: ws.hub.connection_count == 1, timeout=10)
            yield ws, bot
    finally:
        ws.close()


def test_after_an_abrupt_drop_the_bot_is_reachable_again_within_five_seconds(
    socket_bot: tuple[SlackWorkspace, RunningBot],
) -> None:
    ws, _ = socket_bot
    old = ws.hub.drop()

    assert ws.hub.wait_for_connection(newer_than=old, timeout=5.0) is not None
    assert ws.slash_command("U0ALICE", "incidents", "/ask-ai", "help").ok


def test_a_silent_drop_is_noticed_by_the_pong_watchdog_and_replaced(
    socket_bot: tuple[SlackWorkspace, RunningBot],
) -> None:
    ws, bot = socket_bot
    assert bot.bot.socket_mode is not None
    timings = bot.bot.socket_mode.timings
    old = ws.hub.drop(silent=True)

    allowed = timings.ping_interval_s + timings.pong_timeout_s + 3.0
    assert ws.hub.wait_for_connection(newer_than=old, timeout=allowed) is not None


def test_every_envelope_is_acked_within_a_second_across_a_refresh(
    socket_bot: tuple[SlackWorkspace, RunningBot],
) -> None:
    """Envelopes sent every 50 ms through a whole refresh (warning, refresh_requested, the
    old socket closed) all find an open socket and are all acked within 1 s: slash
    commands get no second try from Slack, so a lost one is an error the user sees."""
    ws, _ = socket_bot
    old = max(ws.hub.connection_ids())
    latencies: list[float | None] = []
    ws.hub.refresh(old)
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        latencies.append(_hub_ack(ws, _command_envelope(), timeout=1.0))
        time.sleep(0.05)

    assert ws.hub.wait_for_connection(newer_than=old, timeout=5.0) is not None
    assert len(latencies) > 20
    assert None not in latencies
    assert max(x for x in latencies if x is not None) < 1.0
    # the app closed the old socket itself, before Slack's grace ran out
    ws.wait_for(lambda: ws.hub.connection_count == 1, timeout=5)
    old_events = {e.kind: e.at for e in ws.hub.events if e.connection == old}
    assert list(old_events)[:2] == ["opened", "warning"]
    assert old_events["closed"] - old_events["warning"] < WARNING_S + SLACK_GRACE_S


def _ignored_envelope_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (r.msg["problem"], r.msg["type"])
        for r in caplog.records
        if isinstance(r.msg, dict)
        and r.msg.get("event") == "socket mode envelope acked and ignored"
    ]


def test_malformed_and_unknown_envelopes_are_acked_ignored_and_logged_once_by_type(
    socket_bot: tuple[SlackWorkspace, RunningBot], caplog: pytest.LogCaptureFixture
) -> None:
    ws, _ = socket_bot
    no_payload: dict[str, object] = {"envelope_id": str(uuid.uuid4()), "type": "slash_commands"}
    unknown_type: dict[str, object] = {
        "envelope_id": str(uuid.uuid4()),
        "type": "workflow_step",
        "payload": {},
    }
    odd_payload: dict[str, object] = {
        "envelope_id": str(uuid.uuid4()),
        "type": "events_api",
        "payload": [1, 2],
    }
    unrouted: dict[str, object] = {
        "envelope_id": str(uuid.uuid4()),
        "type": "events_api",
        "payload": {"type": "event_callback", "event": {"type": "no_such_event"}},
    }

    for envelope in (no_payload, unknown_type, odd_payload, unrouted, dict(unknown_type)):
        envelope["envelope_id"] = str(uuid.uuid4())
        assert _hub_ack(ws, envelope) is not None, envelope
    # each kind of oddity is logged once, with the envelope's type (the ack goes out first);
    # an event no listener handles is acknowledged by the app itself (no 404), logged once
    expected = {
        ("malformed", "slash_commands"),
        ("unknown_type", "workflow_step"),
        ("malformed", "events_api"),
    }
    ws.wait_for(lambda: set(_ignored_envelope_lines(caplog)) >= expected, timeout=5)
    assert sorted(_ignored_envelope_lines(caplog)) == sorted(expected)
    unhandled = [
        r.msg.get("kind")
        for r in caplog.records
        if isinstance(r.msg, dict)
        and r.msg.get("event") == "acknowledged a Slack request no listener handles"
    ]
    assert unhandled == ["event:no_such_event"]
    # the bot still answers real commands afterwards
    assert ws.slash_command("U0ALICE", "incidents", "/ask-ai", "help").ok


def test_readyz_in_socket_mode_reports_whether_a_connection_is_open(
    socket_bot: tuple[SlackWorkspace, RunningBot],
) -> None:
    ws, bot = socket_bot
    ready = httpx.get(f"{bot.url}/readyz").json()
    assert ready["checks"]["socket_mode"] == "ok"

    assert bot.bot.socket_mode is not None
    bot.bot.socket_mode.close()
    ws.wait_for(lambda: ws.hub.connection_count == 0, timeout=5)
    answer = httpx.get(f"{bot.url}/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["socket_mode"].startswith("down")


def test_envelope_problems_are_named_for_unknown_types_and_missing_payloads() -> None:
    assert envelope_problem({"type": "slash_commands", "payload": {}}) is None
    assert envelope_problem({"type": "slash_commands"}) == "malformed"
    assert envelope_problem({"type": "events_api", "payload": "text"}) == "malformed"
    assert envelope_problem({"type": "mystery", "payload": {}}) == "unknown_type"
    assert envelope_problem({}) == "unknown_type"


def test_the_wait_for_a_pong_runs_from_the_first_unanswered_ping_not_the_latest() -> None:
    pings = UnansweredPing()
    assert pings.observe(1, 0.0, 0.0) is None  # nothing sent yet
    assert pings.observe(1, 100.0, 100.1) is None  # answered
    assert pings.observe(1, 103.0, 100.1) == 103.0  # waiting since 103
    assert pings.observe(1, 106.0, 100.1) == 103.0  # a later ping does not restart the wait
    assert pings.observe(1, 106.0, 106.2) is None  # answered at last
    assert pings.observe(2, 5.0, 0.0) == 5.0  # a new session starts afresh


def test_only_slacks_hello_and_disconnect_frames_count_as_control_frames() -> None:
    assert control_frame('{"type": "disconnect", "reason": "warning"}') == ("disconnect", "warning")
    assert control_frame('{"reason":"refresh_requested","type":"disconnect"}') == (
        "disconnect",
        "refresh_requested",
    )
    assert control_frame('{"type": "hello", "num_connections": 1}') == ("hello", "")
    assert control_frame('{"type": "events_api", "payload": {"text": "disconnect"}}') is None
    assert control_frame('{"type": "events_api", "payload": {"text": "hello"}}') is None
    assert control_frame('"disconnect" {') is None


def test_a_replaced_socket_is_kept_only_while_slack_may_still_deliver_on_it() -> None:
    # warned only: Slack may still deliver on it, so it is read until Slack ends it
    assert not retire_now(told_to_go=True, final=False, connected=True)
    # refresh_requested: nothing more comes on it
    assert retire_now(told_to_go=True, final=True, connected=True)
    # replaced by our own choice, or already dead
    assert retire_now(told_to_go=False, final=False, connected=True)
    assert retire_now(told_to_go=True, final=False, connected=False)
