"""Socket Mode: the WebSocket apps.connections.open hands out, and envelopes sent over it.

Driver code runs in ordinary threads while the sockets live on the server's event loop, so
`send` hands the frame to that loop and waits on a thread-safe future for the app's ack.
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
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket

from sandbox.slack import seed

Json = dict[str, Any]
TICKET_TTL_S = 60.0


class NoSocketConnection(Exception):
    """No Socket Mode client is connected (Slack reports such deliveries as dispatch_failed)."""


@dataclass
class _Connection:
    id: int
    websocket: WebSocket
    loop: asyncio.AbstractEventLoop


class SocketHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: dict[str, float] = {}
        self._connections: list[_Connection] = []
        self._pending: dict[str, concurrent.futures.Future[Json]] = {}
        self._ids = itertools.count(1)
        self._next = itertools.count()
        self.connected = threading.Event()

    def issue_ticket(self) -> str:
        ticket = secrets.token_hex(16)
        with self._lock:
            self._tickets[ticket] = time.monotonic()
        return ticket

    def _redeem(self, ticket: str | None) -> bool:
        with self._lock:
            issued = self._tickets.pop(ticket or "", None)
        return issued is not None and time.monotonic() - issued < TICKET_TTL_S

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._connections)

    async def endpoint(self, websocket: WebSocket) -> None:
        if not self._redeem(websocket.query_params.get("ticket")):
            await websocket.close(code=1008)
            return
        await websocket.accept()
        connection = _Connection(next(self._ids), websocket, asyncio.get_running_loop())
        with self._lock:
            self._connections.append(connection)
            count = len(self._connections)
        self.connected.set()
        hello = {
            "type": "hello",
            "num_connections": count,
            "debug_info": {
                "host": f"applink-{seed.TEAM_DOMAIN}-{connection.id}",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": seed.APP_ID},
        }
        await websocket.send_text(json.dumps(hello))
        try:
            while True:
                frame = await websocket.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                self._on_frame(frame.get("text") or (frame.get("bytes") or b"").decode())
        finally:
            with self._lock:
                self._connections.remove(connection)
                if not self._connections:
                    self.connected.clear()

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

    def send(self, envelope: Json, timeout: float) -> Json | None:
        """Send one envelope; the app's ack frame, or None if none came within `timeout`."""
        with self._lock:
            if not self._connections:
                raise NoSocketConnection
            connection = self._connections[next(self._next) % len(self._connections)]
            future: concurrent.futures.Future[Json] = concurrent.futures.Future()
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

    async def aclose_all(self) -> None:
        """Close every socket (server shutdown); runs on the server's loop."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(RuntimeError, OSError):
                await connection.websocket.close(code=1001)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
