"""Bolt over Socket Mode, on the adapter that survives Slack's reconnects.

Chosen on measurement (bench/socket_reconnect.py): slack_sdk's built-in client noticed an
abrupt drop after ~60 s and a silent one after ~40 s, and held acks on the new socket for
~3 s after a `refresh_requested`; the `websocket-client` adapter reconnects after a reset
in ~0.6 s and acks in milliseconds, but never notices a silent drop, and after a refresh
sometimes sat out a 10 s select timeout. The async adapters (aiohttp, websockets) took
~10 s after a reset and need an `AsyncApp`, which opsbot's synchronous listeners are not.

On top of the websocket-client adapter this module adds what it lacks:
- sockets are replaced without a gap (`GaplessSocketModeClient`): the new one is open
  before the old one is closed, and the old one is read until Slack's close arrives, so no
  envelope is lost across a refresh and none waits for a socket;
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
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.socket_mode.websocket_client import SocketModeClient
from websocket import WebSocketApp, WebSocketException

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
    # How long a replacement socket may take to get Slack's `hello` (Slack warns ~10 s
    # ahead of a disconnect, so a replacement that takes longer is retried while the old
    # socket still works).
    open_timeout_s: float = 5.0
    # How long a closing socket is read for Slack's close frame before it is cut.
    drain_timeout_s: float = 5.0
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


def control_frame(message: str) -> tuple[str, str] | None:
    """Slack's connection-level frame as (type, reason): `hello` or `disconnect`, else None.

    Control frames are small; only those are parsed a second time (envelopes are parsed by
    slack_sdk's processor), and only if one of the two words occurs in them at all."""
    if len(message) > 2048 or ('"hello"' not in message and '"disconnect"' not in message):
        return None
    try:
        frame = json.loads(message)
    except ValueError:
        return None
    if not isinstance(frame, dict) or frame.get("type") not in ("hello", "disconnect"):
        return None
    return str(frame["type"]), str(frame.get("reason") or "")


def send_ack(client: Any, send: Callable[[], None], wait_s: float = 2.0) -> None:
    """Send an ack; if the socket was just replaced and the new one is still opening, wait
    for it (up to `wait_s`, inside Slack's 3 s) and send again.

    Acks go out on the *current* socket; after an abrupt drop that is the dead one until
    its replacement has opened (tens of milliseconds), and an ack sent in that gap would
    otherwise be lost and the user would see dispatch_failed."""
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


@dataclass(eq=False)
class _Session:
    """One WebSocket to Slack and what Slack has said about it."""

    app: WebSocketApp
    # Set once Slack's `hello` arrived (Slack delivers from then on), or once it ended.
    settled: threading.Event = field(default_factory=threading.Event)
    said_hello: bool = False
    # Slack sent a `disconnect` on it; `final` if that said no more will be delivered on it.
    told_to_go: bool = False
    final: bool = False
    replaced: bool = False  # another socket is current now
    draining: bool = False  # our close frame is sent; read on until Slack's arrives
    raw: socket.socket | None = None


def retire_now(told_to_go: bool, final: bool, connected: bool) -> bool:
    """Whether a socket that has just been replaced should be closed now (a pure decision).

    Slack may still deliver on a socket it has only warned about (`warning`), so that one
    is kept and read until Slack asks for the refresh or closes it itself; after
    `refresh_requested` (or any final reason) Slack delivers nothing more on it. A socket
    Slack said nothing about was replaced by our own choice (a duplicate reconnect) and is
    closed; so is one already dead."""
    return final or not told_to_go or not connected


class GaplessSocketModeClient(SocketModeClient):
    """slack_sdk's websocket-client Socket Mode client, replacing sockets without a gap.

    slack_sdk swaps sockets by closing the old one first and opening the new one on its
    next 0.5 s tick, and websocket-client's close() reads and discards whatever frames
    arrive while it waits for Slack's close reply: an envelope Slack sent at that instant
    was never acked (measured: 4 of 150 envelopes over 10 refreshes; for a slash command
    the user sees an error, since Slack retries only events). Here each socket has its own
    reader thread, and on Slack's `disconnect`:
    - a new socket is opened and becomes current once Slack's `hello` arrives on it;
    - the old one is read on (see `retire_now` for when it is closed), and closing means
      sending our close frame and reading until Slack's arrives, so nothing already on the
      wire is dropped.
    After an abrupt drop the replacement is opened at once, not on the next tick. Acks go
    out on the current socket, as slack_sdk's own clients send them."""

    def __init__(self, *, timings: SocketModeTimings, **kwargs: Any) -> None:
        # Set before the base class starts its threads, which call back into this class.
        self._timings = timings
        self._sessions_lock = threading.Lock()
        self._sessions: list[_Session] = []
        super().__init__(ping_interval=timings.ping_interval_s, **kwargs)

    def connect(self) -> None:
        """Open a socket; make it current once Slack says hello; retire the one it replaces."""
        url, self.wss_uri = self.wss_uri or self.issue_new_wss_url(), None
        fresh = self._start(url)
        fresh.settled.wait(self._timings.open_timeout_s)
        with self._sessions_lock:
            old = self._current()
            keep_old = not fresh.said_hello and old is not None and _connected(old.app)
            if not keep_old:
                self.current_session = fresh.app
                if old is not None:
                    old.replaced = True
            retire = (
                old is not None
                and not keep_old
                and retire_now(old.told_to_go, old.final, _connected(old.app))
            )
        if keep_old:
            log.warning("socket mode replacement not open; keeping the current socket")
            fresh.app.close(timeout=1.0)
            return
        if not self.current_app_monitor_started:
            self.current_app_monitor_started = True
            self.current_app_monitor.start()
        if retire and old is not None:
            self._drain(old)

    def _current(self) -> _Session | None:
        return next((s for s in self._sessions if s.app is self.current_session), None)

    def _start(self, url: str) -> _Session:
        """Open a socket on its own reader thread (slack_sdk reads only the current one)."""
        session = _Session(WebSocketApp(url))
        session.app.on_message = lambda ws, message: self._on_message(session, ws, message)
        session.app.on_error = lambda ws, error: self._on_error(session, error)
        session.app.on_close = lambda ws, *_: self._on_close(session)
        with self._sessions_lock:
            self._sessions.append(session)
        threading.Thread(
            target=session.app.run_forever,
            kwargs={
                "ping_interval": self.ping_interval,
                "http_proxy_host": self.http_proxy_host,
                "http_proxy_port": self.http_proxy_port,
                "http_proxy_auth": self.http_proxy_auth,
                "proxy_type": self.proxy_type,
            },
            name="socket-mode-reader",
            daemon=True,
        ).start()
        return session

    def _on_message(self, session: _Session, ws: WebSocketApp, message: str) -> None:
        control = control_frame(message)
        if control is not None and control[0] == "disconnect":
            self._on_disconnect(session, control[1])
            return  # slack_sdk's processor would reconnect a second time
        if control is not None:
            session.said_hello = True
            session.settled.set()
        self.enqueue_message(message)
        for listener in self.on_message_listeners:
            listener(ws, message)

    def _on_disconnect(self, session: _Session, reason: str) -> None:
        """Slack will end this socket: open its replacement, or close it if already replaced."""
        with self._sessions_lock:
            first = not session.told_to_go
            session.told_to_go = True
            session.final = session.final or reason != "warning"
            replace = first and session.app is self.current_session
            retire = session.replaced and session.final
        log.info("socket mode disconnect frame", reason=reason, replacing=replace)
        if replace:
            threading.Thread(
                target=self._replace, args=(session,), name="socket-mode-replace", daemon=True
            ).start()
        if retire:
            self._drain(session)

    def _replace(self, session: _Session) -> None:
        """Open a replacement for `session`, retrying while it stays current."""
        for _ in range(5):
            try:
                self.connect_to_new_endpoint(force=True)
            # Outer boundary of this thread: apps.connections.open or the handshake failed;
            # the socket still works for now, so log and try again.
            except Exception as error:  # noqa: BLE001
                log.warning("socket mode replacement failed", error=type(error).__name__)
            if session.replaced or self.closed:
                return
            time.sleep(1.0)

    def _drain(self, session: _Session) -> None:
        """Close a socket, reading on until Slack's close frame arrives (or a timeout).

        websocket-client's own close() discards the frames it reads while waiting for the
        reply; sending the close frame and leaving the reader running keeps them."""
        with self._sessions_lock:
            if session.draining:
                return
            session.draining = True
        sock = session.app.sock
        if sock is None:
            return
        session.raw = sock.sock
        try:
            sock.send_close()
        except (WebSocketException, OSError):
            _cut(session.app)
            return
        cutter = threading.Timer(self._timings.drain_timeout_s, _cut, (session.app,))
        cutter.daemon = True
        cutter.start()

    def _on_error(self, session: _Session, error: Exception) -> None:
        if session.app is self.current_session and not session.draining:
            log.warning("socket mode socket error", error=type(error).__name__)

    def _on_close(self, session: _Session) -> None:
        session.settled.set()
        if session.raw is not None:
            with contextlib.suppress(OSError):
                session.raw.close()
        with self._sessions_lock:
            if session in self._sessions:
                self._sessions.remove(session)
        if session.app is self.current_session and self.auto_reconnect_enabled:
            log.info("socket mode socket closed; reconnecting")
            self.connect_to_new_endpoint()

    def _run_current_session(self) -> None:
        """Unused: each socket runs on its own reader thread (see `_start`)."""

    def disconnect(self) -> None:
        """Close every socket, the current one and any still being read."""
        with self._sessions_lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.app.close(timeout=1.0)


class _Handler(BaseSocketModeHandler):
    """Bolt's Socket Mode handler on the gapless client, acking envelopes Bolt leaves
    unanswered."""

    client: GaplessSocketModeClient

    def __init__(self, app: App, app_token: str, timings: SocketModeTimings) -> None:
        self.app = app
        self.app_token = app_token
        self.client = GaplessSocketModeClient(
            timings=timings,
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            concurrency=timings.concurrency,
        )
        self.client.socket_mode_request_listeners.append(self.handle)
        self.odd = _AckEverything()
        self.client.message_listeners.append(self.odd)

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
