"""Bolt over Socket Mode, on the adapter that survives Slack's reconnects.

Chosen on measurement (bench/socket_reconnect.py): slack_sdk's built-in client noticed an
abrupt drop after ~60 s and a silent one after ~40 s, and held acks on the new socket for
~3 s after a `refresh_requested`; the `websocket-client` adapter reconnects after a reset
in ~0.6 s and acks in milliseconds, but never notices a silent drop, and after a refresh
sometimes sat out a 10 s select timeout (fixed below). The async adapters (aiohttp,
websockets) took ~10 s after a reset and need an `AsyncApp`, which opsbot's synchronous
listeners are not.

On top of the adapter this module adds what it lacks:
- every envelope is acknowledged, malformed (no payload) and unknown types included, and
  so is one Bolt answers with an error status: Slack wants an ack within 3 s whatever the
  app thinks of the envelope, or the user sees `dispatch_failed`. Each odd type is logged
  once, not once per envelope;
- a pong watchdog: websocket-client pings but, as slack_sdk runs it, never gives up on a
  missing pong, so a connection that silently stops answering (a partition, a dead NAT
  entry) would stay "open" until the kernel's TCP retries end ~15 minutes later. The
  watchdog cuts such a socket, and the adapter's own close handling reconnects.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from websocket import WebSocketException

from bot.logs import get_logger

log = get_logger("opsbot.slack.socket_mode")

# The envelope types Bolt dispatches; `hello` and `disconnect` carry no envelope_id.
DISPATCHED_TYPES = frozenset({"events_api", "slash_commands", "interactive"})


@dataclass(frozen=True)
class SocketModeTimings:
    """Keep-alive settings, chosen so a dead socket is replaced well inside Slack's patience.

    Slack gives an envelope 3 s to be acked and retries events after that; a dead socket is
    noticed within `ping_interval_s + pong_timeout_s` plus one watchdog tick (~7 s measured,
    against websocket-client's default of never), and a refresh or reset is handled at once
    by the adapter. Pings every 3 s cost one 2-byte frame each way, and loopback or a cloud
    region answers in well under the 3 s allowed; shorter would mistake a GC pause or a
    busy core for a dead link (a false alarm costs one ~0.5 s reconnect).
    """

    ping_interval_s: float = 3.0
    pong_timeout_s: float = 3.0
    # Worker threads that run Bolt listeners (acks are sent from these).
    concurrency: int = 10


def envelope_problem(message: Mapping[str, Any]) -> str | None:
    """Why Bolt would not ack this envelope itself (None: a well-formed, dispatched type).

    A pure decision: unknown `type`, or a payload that is missing or not an object."""
    kind = message.get("type")
    if kind not in DISPATCHED_TYPES:
        return "unknown_type"
    if not isinstance(message.get("payload"), dict):
        return "malformed"
    return None


class _AckEverything:
    """Acks envelopes Bolt will not, logging each (problem, type) pair only once."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def __call__(
        self, client: BaseSocketModeClient, message: dict[str, Any], raw: str | None
    ) -> None:
        envelope_id = message.get("envelope_id")
        problem = envelope_problem(message)
        if not isinstance(envelope_id, str) or problem is None:
            return
        send_ack(client, lambda: client.send_socket_mode_response(SocketModeResponse(envelope_id)))
        self.note(problem, str(message.get("type"))[:64])

    def note(self, problem: str, kind: str) -> None:
        """Log a (problem, type) the first time it is seen."""
        with self._lock:
            first = (problem, kind) not in self._seen
            self._seen.add((problem, kind))
        if first:
            log.warning("socket mode envelope acked and ignored", problem=problem, type=kind)


def _end_socket_on_disconnect(session: Any, message: str) -> None:
    """On Slack's `disconnect` frame, shut the socket down from its own reader thread.

    slack_sdk answers the frame by opening a new session and closing the old one from
    another thread; closing a descriptor another thread is waiting on in select() does not
    wake it, so the reader sat out its 10 s select timeout before the new session could
    start (measured: 0.5 s or 10.5 s, at random). A shutdown wakes the reader at once."""
    if is_disconnect_frame(message):
        _cut(session)


def is_disconnect_frame(message: str) -> bool:
    """Whether a raw frame is Slack's `disconnect` (cheap test first: envelopes are large)."""
    if '"disconnect"' not in message[:80]:
        return False
    try:
        frame = json.loads(message)
    except ValueError:
        return False
    return isinstance(frame, dict) and frame.get("type") == "disconnect"


def send_ack(client: Any, send: Callable[[], None], wait_s: float = 2.0) -> None:
    """Send an ack; if the socket was just replaced and the new one is still opening, wait
    for it (up to `wait_s`, inside Slack's 3 s) and send again.

    slack_sdk sends every ack on the *current* socket; during a refresh that is the new
    one, which opens about half a second after the old one closes, and an ack sent in
    that gap would otherwise be lost and the user would see dispatch_failed."""
    try:
        send()
        return
    except WebSocketException:
        pass
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and not getattr(
        getattr(client.current_session, "sock", None), "connected", False
    ):
        time.sleep(0.02)
    try:
        send()
    except WebSocketException:
        log.warning("socket mode ack lost: no socket open", waited_s=wait_s)


class _Handler(SocketModeHandler):
    """Bolt's websocket-client handler, acking envelopes Bolt leaves unanswered."""

    def __init__(self, app: App, app_token: str, timings: SocketModeTimings) -> None:
        super().__init__(
            app,
            app_token,
            ping_interval=timings.ping_interval_s,
            concurrency=timings.concurrency,
        )
        self.odd = _AckEverything()
        self.client.message_listeners.append(self.odd)
        self.client.on_message_listeners.append(_end_socket_on_disconnect)

    def handle(self, client: Any, req: SocketModeRequest) -> None:
        """Dispatch a well-formed envelope; ack it even if no listener took it."""
        if envelope_problem({"type": req.type, "payload": req.payload}) is not None:
            return  # already acked by the message listener
        start = time.time()
        response = run_bolt_app(self.app, req)
        if response.status == 200:
            send_ack(client, lambda: send_response(client, req, response, start))
            return
        send_ack(
            client,
            lambda: client.send_socket_mode_response(SocketModeResponse(req.envelope_id)),
        )
        self.odd.note(f"bolt_status_{response.status}", req.type)


class PongWatchdog:
    """Cuts the current socket when a ping has gone unanswered for `pong_timeout_s`.

    Cutting (shutdown of the TCP socket) rather than reconnecting here lets the adapter's
    own close path do the reconnect, so there is one reconnect path, not two."""

    def __init__(self, session: Callable[[], Any], timings: SocketModeTimings) -> None:
        self._session = session
        self._timings = timings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="socket-mode-pong", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        period = min(1.0, self._timings.pong_timeout_s / 4)
        unanswered = UnansweredPing()
        while not self._stop.wait(period):
            session = self._session()
            if session is None:
                continue
            since = unanswered.observe(id(session), session.last_ping_tm, session.last_pong_tm)
            if since is None or time.time() - since <= self._timings.pong_timeout_s:
                continue
            log.warning("socket mode pong overdue; reconnecting", waited_s=time.time() - since)
            _cut(session)


def _connected(session: Any) -> bool:
    return bool(getattr(getattr(session, "sock", None), "connected", False))


def _cut(session: Any) -> None:
    """Shut the session's TCP socket down so its reader ends and the adapter reconnects."""
    raw = getattr(getattr(session, "sock", None), "sock", None)
    if isinstance(raw, socket.socket):
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)


class UnansweredPing:
    """Tracks when the oldest ping still waiting for its pong was sent.

    websocket-client keeps only the *last* ping's time, which moves on with every ping, so
    "last ping minus last pong" never grows past the ping interval; the watchdog has to
    remember the first ping sent after the last pong itself. The watchdog polls several
    times per ping interval, so it sees each ping before the next one overwrites it."""

    def __init__(self) -> None:
        self._session: int | None = None
        self._since: float | None = None

    def observe(self, session: int, last_ping: float, last_pong: float) -> float | None:
        """Feed the session's ping/pong times; returns when the wait began (None: no wait)."""
        if session != self._session:
            self._session, self._since = session, None
        if last_ping <= 0 or last_pong >= last_ping:
            self._since = None
        elif self._since is None or self._since <= last_pong:
            self._since = last_ping
        return self._since


class SocketModeConnection:
    """opsbot's Socket Mode link: connect, close, and whether a socket is open (/readyz)."""

    def __init__(self, app: App, app_token: str, timings: SocketModeTimings | None = None) -> None:
        self.timings = timings or SocketModeTimings()
        self._handler = _Handler(app, app_token, self.timings)
        self._watchdog = PongWatchdog(lambda: self._handler.client.current_session, self.timings)

    def connect(self, wait_s: float = 10.0) -> bool:
        """Open the first socket (URL from apps.connections.open); wait up to `wait_s`.

        The adapter opens sockets on its own thread; waiting here means the process reports
        itself connected only once Slack can deliver. False if it is still opening (the
        adapter keeps trying; /readyz says so)."""
        self._handler.connect()  # type: ignore[no-untyped-call]
        self._watchdog.start()
        deadline = time.monotonic() + wait_s
        while not self.is_open():
            if time.monotonic() > deadline:
                log.warning("socket mode not open yet", waited_s=wait_s)
                return False
            time.sleep(0.01)
        return True

    def is_open(self) -> bool:
        """Whether a WebSocket to Slack is open right now."""
        return _connected(self._handler.client.current_session)

    def readiness(self) -> str:
        """`ok` with an open socket, else `down: ...` (the /readyz check's wording)."""
        return "ok" if self.is_open() else "down: no socket mode connection"

    def close(self) -> None:
        """Stop reconnecting and close the socket."""
        self._watchdog.stop()
        self._handler.close()  # type: ignore[no-untyped-call]
