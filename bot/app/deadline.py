"""HTTP connections must deliver a whole request within a deadline.

uvicorn closes a keep-alive connection that stays idle after a response
(`timeout_keep_alive`), but it sets no deadline on a request being read: a client that
connects and sends nothing, or trickles its headers or body a few bytes at a time
(slowloris), holds a socket, a file descriptor and a parser for ever. A handful of such
clients exhaust the process's descriptors while every request looks "in progress".

`with_read_deadline(seconds)` returns uvicorn's h11 protocol with one timer per
connection: armed when the connection opens or the first bytes of a new request arrive,
never extended by more bytes, and cancelled once the request (headers and body) has been
read. When it fires the connection is closed; a handler that was reading the body sees
the disconnect. Slack and Alertmanager send a request in one go, so a deadline of
seconds costs them nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.logs import get_logger

log = get_logger("opsbot.http")

_READING = (h11.IDLE, h11.SEND_BODY)  # the peer's request is not complete yet


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for reading each request."""

    read_deadline: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._track()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _track(self) -> None:
        """Arm the timer while a request is being read (never re-arm an armed one: more
        bytes must not buy more time); cancel it once the request is complete."""
        if self.transport.is_closing() or self.conn.their_state not in _READING:
            self._disarm()
        elif self._deadline is None:
            self._deadline = self.loop.call_later(self.read_deadline, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state not in _READING:
            return
        log.warning(
            "closed a connection that did not send its request in time",
            seconds=self.read_deadline,
            received_headers=self.conn.their_state is h11.SEND_BODY,
        )
        self.transport.close()


def with_read_deadline(seconds: float) -> type[DeadlineH11Protocol]:
    """The protocol class to hand `uvicorn.Config(http=...)`: requests must be read
    within `seconds` of their first byte (or of the connection opening)."""
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"read_deadline": seconds})
