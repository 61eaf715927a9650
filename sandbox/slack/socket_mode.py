"""Socket Mode: the WebSocket apps.connections.open hands out, and envelopes sent over it.

Driver code runs in ordinary threads while the sockets live on the server's event loop, so
`send` hands the frame to that loop and waits on a thread-safe future for the app's ack.

Slack's connection behaviours are reproduced so apps are tested against them:
- `hello` carries `num_connections`, and envelopes flow on a socket only after its `hello`;
  with several connections open an envelope may arrive on any of them (round robin here),
  never on one that was told to go away;
- a refresh: `disconnect` with reason `warning` some seconds ahead (the socket still
  carries envelopes), then `disconnect` with reason `refresh_requested`; from then on the
  old socket gets no more envelopes, and it is closed a little later if the app has not
  closed it itself; `refresh_after_s` does this to every connection once it is that old,
  as Slack does every few hours;
- an ack counts on whichever of the app's sockets it arrives (slack_sdk's clients ack on
  their newest socket); an envelope sent on a socket the app is closing, or that drops,
  is not acked: events are retried later (events.py), while slash commands and
  interactions get no second try, as with Slack (the user sees an error);
- abrupt drops: `drop(silent=False)` cuts the TCP connection with no close frame (a load
  balancer reset); `drop(silent=True)` stops reading from it, so pings go unanswered and
  acks are never seen (a network partition).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from sandbox.slack import seed

Json = dict[str, Any]
# What sending on a socket the peer has closed raises, depending on how far the close got.
_GONE = (RuntimeError, OSError, WebSocketDisconnect)
TICKET_TTL_S = 60.0


class NoSocketConnection(Exception):
    """No Socket Mode client is connected (Slack reports such deliveries as dispatch_failed)."""


@dataclass(frozen=True)
class SocketTimings:
    """How Slack paces a connection's end: the warning's lead, and the close after a refresh."""

    # Slack warns "this connection will be disconnected in 10 seconds".
    warning_s: float = 10.0
    # After refresh_requested Slack stops delivering on the socket; it closes it this much later.
    refresh_close_s: float = 10.0
    # Refresh every connection once it is this old (None: only when asked).
    refresh_after_s: float | None = None


@dataclass
class _Connection:
    id: int
    websocket: WebSocket
    loop: asyncio.AbstractEventLoop
    opened: float = field(default_factory=time.monotonic)
    # Told to go away (refresh_requested) or cut: no envelope is routed to it any more.
    retired: bool = False
    # Its `hello` is out: envelopes may flow on it (never ahead of the hello, as with Slack).
    ready: bool = False


@dataclass(frozen=True)
class SocketEvent:
    """One connection-level happening, for tests and benchmarks: when, which, what."""

    at: float
    connection: int
    kind: str  # opened | closed | warning | refresh_requested | dropped | silenced


class SocketHub:
    """The Socket Mode side of the emulated Slack: tickets, open sockets, envelope routing."""

    def __init__(self, timings: Callable[[], SocketTimings] = SocketTimings) -> None:
        self._timings = timings
        self._lock = threading.Lock()
        self._tickets: dict[str, float] = {}
        self._connections: list[_Connection] = []
        self._pending: dict[str, concurrent.futures.Future[Json]] = {}
        self._ids = itertools.count(1)
        self._next = itertools.count()
        self.events: list[SocketEvent] = []
        self.connected = threading.Event()

    @property
    def timings(self) -> SocketTimings:
        """The current pacing (read on each use, so a workspace's configure() applies)."""
        return self._timings()

    def issue_ticket(self) -> str:
        ticket = secrets.token_hex(16)
        with self._lock:
            self._tickets[ticket] = time.monotonic()
        return ticket

    def _redeem(self, ticket: str | None) -> bool:
        with self._lock:
            issued = self._tickets.pop(ticket or "", None)
        return issued is not None and time.monotonic() - issued < TICKET_TTL_S

    def _record(self, connection: int, kind: str) -> None:
        self.events.append(SocketEvent(time.monotonic(), connection, kind))

    @property
    def connection_count(self) -> int:
        """Open sockets Slack would deliver on (a refreshed or dropped one no longer counts)."""
        with self._lock:
            return sum(not c.retired for c in self._connections)

    def connection_ids(self) -> list[int]:
        """Ids of the sockets envelopes may be routed to, oldest first."""
        with self._lock:
            return [c.id for c in self._connections if not c.retired]

    def wait_for_connection(self, newer_than: int, timeout: float) -> float | None:
        """Block until a deliverable socket with an id above `newer_than` is open.

        Returns the monotonic time it was opened, or None after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                fresh = [c for c in self._connections if c.id > newer_than and not c.retired]
            if fresh:
                return fresh[0].opened
            time.sleep(0.005)
        return None

    async def endpoint(self, websocket: WebSocket) -> None:
        if not self._redeem(websocket.query_params.get("ticket")):
            await websocket.close(code=1008)
            return
        await websocket.accept()
        connection = _Connection(next(self._ids), websocket, asyncio.get_running_loop())
        with self._lock:
            count = 1 + sum(not c.retired for c in self._connections)
        hello = {
            "type": "hello",
            "num_connections": count,
            "debug_info": {
                "host": _host(connection.id),
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": seed.APP_ID},
        }
        with self._lock:  # known at once (a drop may follow the hello), not yet deliverable
            self._connections.append(connection)
        await websocket.send_text(json.dumps(hello))
        connection.ready = True  # envelopes flow once `hello` is out, never ahead of it
        self._record(connection.id, "opened")
        self.connected.set()
        refresher = None
        if self.timings.refresh_after_s is not None:
            refresher = asyncio.create_task(self._refresh_later(connection))
        try:
            while True:
                frame = await websocket.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                self._on_frame(frame.get("text") or (frame.get("bytes") or b"").decode())
        finally:
            if refresher is not None:
                refresher.cancel()
            with self._lock:
                self._connections.remove(connection)
                if not any(not c.retired for c in self._connections):
                    self.connected.clear()
            self._record(connection.id, "closed")

    async def _refresh_later(self, connection: _Connection) -> None:
        await asyncio.sleep(self.timings.refresh_after_s or 0.0)
        await self._refresh(connection)

    async def _refresh(self, connection: _Connection) -> None:
        """Warn, ask the app to reconnect, stop delivering, then close if it has not.

        An app may already reconnect on the warning (slack_sdk's clients do); the steps
        after that find the socket gone and stop."""
        if not await self._send_disconnect(connection, "warning"):
            return
        await asyncio.sleep(self.timings.warning_s)
        with self._lock:
            connection.retired = True
            if not any(not c.retired for c in self._connections):
                self.connected.clear()
        if not await self._send_disconnect(connection, "refresh_requested"):
            return
        await asyncio.sleep(self.timings.refresh_close_s)
        with contextlib.suppress(*_GONE):
            await connection.websocket.close(code=1001)

    async def _send_disconnect(self, connection: _Connection, reason: str) -> bool:
        """Send a `disconnect` frame; False if the socket has already gone."""
        with self._lock:
            if connection not in self._connections:
                return False
        frame = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": _host(connection.id)},
        }
        try:
            await connection.websocket.send_text(json.dumps(frame))
        except _GONE:
            return False
        self._record(connection.id, reason)
        return True

    def _on_frame(self, text: str) -> None:
        try:
            ack = json.loads(text)
        except ValueError:
            return
        if not isinstance(ack, dict):
            return
        with self._lock:
            future = self._pending.pop(str(ack.get("envelope_id")), None)
        if future is not None and not future.done():
            future.set_result(ack)

    def _pick(self, connection_id: int | None) -> _Connection:
        with self._lock:
            live = [c for c in self._connections if c.ready and not c.retired]
            if connection_id is not None:
                live = [c for c in live if c.id == connection_id]
            if not live:
                raise NoSocketConnection
            return live[next(self._next) % len(live)]

    def send(self, envelope: Json, timeout: float, connection_id: int | None = None) -> Json | None:
        """Send one envelope; the app's ack frame, or None if none came within `timeout`.

        Any deliverable connection may carry it, as with Slack; `connection_id` pins one."""
        connection = self._pick(connection_id)
        future: concurrent.futures.Future[Json] = concurrent.futures.Future()
        with self._lock:
            self._pending[envelope["envelope_id"]] = future
        if _running_loop() is connection.loop:
            raise RuntimeError("SocketHub.send blocks; call it from a worker thread")
        sent = asyncio.run_coroutine_threadsafe(
            connection.websocket.send_text(json.dumps(envelope)), connection.loop
        )
        try:
            sent.result(timeout)
            return future.result(timeout)
        except (concurrent.futures.TimeoutError, RuntimeError, OSError):
            return None
        finally:
            with self._lock:
                self._pending.pop(envelope["envelope_id"], None)

    def refresh(self, connection_id: int | None = None) -> None:
        """Start Slack's refresh on one connection (the oldest by default); returns at once."""
        connection = self._oldest(connection_id)
        asyncio.run_coroutine_threadsafe(self._refresh(connection), connection.loop)

    def drop(self, connection_id: int | None = None, *, silent: bool = False) -> int:
        """Cut one connection (the oldest by default) without a close frame; returns its id.

        `silent=False` resets the TCP connection; `silent=True` leaves it open but stops
        reading it, so the app only notices through its own ping timeout."""
        connection = self._oldest(connection_id)
        transport = _transport(connection.websocket)
        with self._lock:
            connection.retired = True
            if not any(not c.retired for c in self._connections):
                self.connected.clear()
        if silent:
            connection.loop.call_soon_threadsafe(transport.pause_reading)
            self._record(connection.id, "silenced")
        else:
            connection.loop.call_soon_threadsafe(transport.abort)
            self._record(connection.id, "dropped")
        return connection.id

    def _oldest(self, connection_id: int | None) -> _Connection:
        with self._lock:
            live = [c for c in self._connections if not c.retired]
            if connection_id is not None:
                live = [c for c in live if c.id == connection_id]
        if not live:
            raise NoSocketConnection
        return live[0]

    async def aclose_all(self) -> None:
        """Close every socket (server shutdown); runs on the server's loop."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(RuntimeError, OSError):
                await connection.websocket.close(code=1001)


def _host(connection_id: int) -> str:
    return f"applink-{seed.TEAM_DOMAIN}-{connection_id}"


def _transport(websocket: WebSocket) -> asyncio.Transport:
    """The TCP transport under a Starlette WebSocket (uvicorn's protocol owns `receive`)."""
    protocol: Any = getattr(websocket._receive, "__self__", None)
    transport = getattr(protocol, "transport", None)
    if not isinstance(transport, asyncio.Transport):
        raise RuntimeError("the ASGI server does not expose its transport; cannot drop abruptly")
    return transport


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
