"""Socket Mode adapters under Slack's reconnects: how long until Slack can deliver again,
and how fast envelopes on the new socket are acked.

    python bench/socket_reconnect.py [--adapters builtin websocket_client aiohttp websockets
        opsbot] [--rounds 3] [--give-up 90]

Each adapter runs a minimal Bolt app (a `/ping` command that acks) against the local
workspace's Socket Mode server, which then:
- drop:    resets the TCP connection with no close frame (a load balancer reset);
- silent:  stops reading the connection (a partition: pings unanswered, acks never seen);
- refresh: `disconnect` reason `warning`, 0.2 s later `refresh_requested`, socket closed
           10 s later if the app keeps it (Slack's routine refresh, warning lead shortened).
Reconnect is from the drop (or the first disconnect frame: slack_sdk's clients reconnect on
the warning already) to the next socket the server
can deliver on. Ack latency is measured on that new socket: 5 `/ping` envelopes sent one
after another as soon as it opens, from send to ack. During refresh a sender also pushes
an envelope every 50 ms through the whole cycle; its worst ack is "cycle max", "lost"
counts envelopes Slack sent that were never acked (within 5 s), and "no socket" counts
moments Slack had no open socket to send on (it reports dispatch_failed to the user).
Slash commands and clicks get no second try from Slack, so either is a user-visible failure.
`opsbot` is bot/slack/socket_mode.py: websocket_client with its ping settings, pong
watchdog, ack-everything listener and gapless socket replacement. aiohttp/websockets
run an AsyncApp.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_bolt import App
from slack_sdk import WebClient

from sandbox.slack import SlackConfig, SlackWorkspace
from sandbox.slack.socket_mode import NoSocketConnection

ADAPTERS = ("builtin", "websocket_client", "aiohttp", "websockets", "opsbot")
SCENARIOS = ("drop", "silent", "refresh")


def ping_envelope() -> dict[str, Any]:
    """A /ping slash command envelope as Slack sends it over Socket Mode."""
    return {
        "envelope_id": str(uuid.uuid4()),
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "token": "verification",
            "team_id": "T0OPSBOT",
            "team_domain": "opsbot",
            "channel_id": "C0INCIDENTS",
            "channel_name": "incidents",
            "user_id": "U0ALICE",
            "user_name": "alice",
            "command": "/ping",
            "text": "",
            "api_app_id": "A0OPSBOT",
            "response_url": "http://127.0.0.1:9/response",
            "trigger_id": "1.2.3",
        },
    }


def timed_ack(ws: SlackWorkspace, connection: int | None, timeout: float = 5.0) -> float | None:
    """Send one /ping; ms until its ack (None: no ack within `timeout`)."""
    start = time.monotonic()
    ack = ws.hub.send(ping_envelope(), timeout, connection_id=connection)
    return None if ack is None else (time.monotonic() - start) * 1000


class Adapter:
    """One adapter connected to the workspace; `stop()` closes it."""

    def __init__(self, name: str, ws: SlackWorkspace) -> None:
        self.name = name
        self._stop: Callable[[], None] = lambda: None
        if name in ("aiohttp", "websockets"):
            self._start_async(ws)
        else:
            self._start_sync(ws)

    def _start_sync(self, ws: SlackWorkspace) -> None:
        app = App(client=WebClient(token=ws.config.bot_token, base_url=ws.api_url))

        @app.command("/ping")
        def ping(ack: Any) -> None:
            ack()

        token = ws.config.app_token
        if self.name == "opsbot":
            from bot.slack.socket_mode import SocketModeConnection

            connection = SocketModeConnection(app, token)
            connection.connect()
            self._stop = connection.close
            return
        if self.name == "builtin":
            from slack_bolt.adapter.socket_mode import SocketModeHandler
        else:
            from slack_bolt.adapter.socket_mode.websocket_client import (  # type: ignore[assignment]
                SocketModeHandler,
            )
        handler = SocketModeHandler(app, token)
        handler.connect()  # type: ignore[no-untyped-call]
        self._stop = handler.close

    def _start_async(self, ws: SlackWorkspace) -> None:
        from slack_bolt.async_app import AsyncApp
        from slack_sdk.web.async_client import AsyncWebClient

        loop = asyncio.new_event_loop()
        ready = threading.Event()
        holder: dict[str, Any] = {}

        async def main() -> None:
            app = AsyncApp(client=AsyncWebClient(token=ws.config.bot_token, base_url=ws.api_url))

            @app.command("/ping")
            async def ping(ack: Any) -> None:
                await ack()

            if self.name == "aiohttp":
                from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
            else:
                from slack_bolt.adapter.socket_mode.websockets import (  # type: ignore[assignment]
                    AsyncSocketModeHandler,
                )
            handler = AsyncSocketModeHandler(app, ws.config.app_token)
            await handler.connect_async()  # type: ignore[no-untyped-call]
            holder["handler"] = handler
            ready.set()

        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        asyncio.run_coroutine_threadsafe(main(), loop).result(30)
        ready.wait(30)

        def stop() -> None:
            closing = asyncio.run_coroutine_threadsafe(holder["handler"].close_async(), loop)
            # best-effort teardown of a bench client
            with contextlib.suppress(Exception):
                closing.result(15)
            loop.call_soon_threadsafe(loop.stop)

        self._stop = stop

    def stop(self) -> None:
        self._stop()


def first_disconnect_frame(ws: SlackWorkspace, connection: int) -> float:
    """When the server sent its first `disconnect` frame on `connection` (the warning)."""
    while True:
        sent = [e.at for e in ws.hub.events if e.connection == connection and e.kind == "warning"]
        if sent:
            return sent[0]
        time.sleep(0.002)


def run_scenario(ws: SlackWorkspace, scenario: str, give_up: float) -> dict[str, Any]:
    """One disruption; reconnect seconds, acks on the new socket, worst ack in the cycle."""
    assert ws.hub.connected.wait(10), "no socket to disrupt"
    old = max(ws.hub.connection_ids())
    cycle: list[float] = []
    misses: Counter[str] = Counter()
    stop_sender = threading.Event()

    def sender() -> None:
        while not stop_sender.is_set():
            try:
                latency = timed_ack(ws, None)
            except NoSocketConnection:
                misses["no_socket"] += 1
            else:
                if latency is None:
                    misses["lost"] += 1
                else:
                    cycle.append(latency)
            time.sleep(0.05)

    background = threading.Thread(target=sender, daemon=True)
    if scenario == "refresh":
        background.start()
        ws.hub.refresh(old)
        t0 = first_disconnect_frame(ws, old)
    else:
        t0 = time.monotonic()
        ws.hub.drop(old, silent=scenario == "silent")
    opened = ws.hub.wait_for_connection(old, give_up)
    result: dict[str, Any] = {"reconnect_s": None if opened is None else opened - t0}
    if opened is not None:
        new = max(ws.hub.connection_ids())
        result["acks_ms"] = [timed_ack(ws, new) for _ in range(5)]
    if scenario == "refresh":
        time.sleep(1.0)
        stop_sender.set()
        background.join()
        result["cycle_max_ms"] = max(cycle, default=None)
        result["cycle_sent"] = len(cycle) + misses["lost"]
        result["cycle_lost"] = misses["lost"]
        result["cycle_no_socket"] = misses["no_socket"]
    return result


def fmt(value: float | None, unit: str, digits: int = 2) -> str:
    return "gave up" if value is None else f"{value:.{digits}f}{unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapters", nargs="+", default=list(ADAPTERS), choices=ADAPTERS)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--give-up", type=float, default=90.0)
    args = parser.parse_args()
    print(
        f"{'adapter':<17}{'scenario':<9}{'reconnect (median, max)':<26}"
        f"{'ack on new socket (median, max)':<33}{'cycle max ack':<15}"
        f"{'lost/sent':<11}no socket"
    )
    for name in args.adapters:
        for scenario in args.scenarios:
            ws = SlackWorkspace(SlackConfig(delivery="socket", bot_url=None, socket_warning_s=0.2))
            ws.serve()
            adapter = Adapter(name, ws)
            rows = []
            try:
                for _ in range(args.rounds):
                    rows.append(run_scenario(ws, scenario, args.give_up))
            finally:
                adapter.stop()
                ws.close()
            reconnects = [r["reconnect_s"] for r in rows]
            acks = [a for r in rows for a in r.get("acks_ms", [])]
            done = [s for s in reconnects if s is not None]
            got = [a for a in acks if a is not None]
            cycle = [r["cycle_max_ms"] for r in rows if r.get("cycle_max_ms") is not None]
            lost = sum(r.get("cycle_lost", 0) for r in rows) + sum(a is None for a in acks)
            sent = sum(r.get("cycle_sent", 0) for r in rows) + len(acks)
            no_socket = sum(r.get("cycle_no_socket", 0) for r in rows)
            reconnect = (
                f"{fmt(statistics.median(done), ' s')}, {fmt(max(done), ' s')}"
                if len(done) == len(reconnects)
                else f"gave up {len(reconnects) - len(done)}/{len(reconnects)}"
            )
            ack = (
                f"{fmt(statistics.median(got), ' ms', 1)}, {fmt(max(got), ' ms', 1)}"
                if got
                else "-"
            )
            cycle_text = fmt(max(cycle), " ms", 1) if cycle else "-"
            print(
                f"{name:<17}{scenario:<9}{reconnect:<26}{ack:<33}{cycle_text:<15}"
                f"{f'{lost}/{sent}':<11}{no_socket}",
                flush=True,
            )


if __name__ == "__main__":
    main()
