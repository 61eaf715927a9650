"""`opsbot run` closes connections that do not send their request in time.

A client that connects and says nothing, or trickles its headers or body a few bytes at a
time, used to hold its socket for ever (100 partial-header and 20 silent connections were
all still open after 90 s). The process is started as users start it, so the server
configuration under test is the one `opsbot run` uses."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.botharness import workspace
from tests.botprocess import BotProcess

DEADLINE = 1.5


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    home = tmp_path_factory.mktemp("slow-clients")
    slack = workspace()
    bot = BotProcess(
        slack,
        home,
        OPSBOT_DATABASE_URL=f"sqlite:///{home / 'bot.db'}",
        OPSBOT_REQUEST_READ_TIMEOUT=str(DEADLINE),
    )
    try:
        yield bot.start()
    finally:
        bot.stop()
        slack.close()


def connect(bot: BotProcess) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", bot.port), timeout=10)
    conn.settimeout(DEADLINE * 4)
    return conn


def closed_by_server(conn: socket.socket) -> bool:
    """True when the server has closed its side (recv sees end of stream, or a reset)."""
    try:
        return conn.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def trickle(conn: socket.socket, data: bytes, seconds: float) -> None:
    """Send `data` a byte at a time over `seconds` (stops early if the server hangs up)."""
    pause = seconds / max(1, len(data))
    for byte in data:
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return
        time.sleep(pause)


def test_silent_connections_are_closed_after_the_read_deadline(running: BotProcess) -> None:
    conns = [connect(running) for _ in range(20)]
    try:
        started = time.monotonic()
        assert all(closed_by_server(conn) for conn in conns)
        assert time.monotonic() - started < DEADLINE * 3
    finally:
        for conn in conns:
            conn.close()


def test_headers_trickled_byte_by_byte_do_not_buy_more_time(running: BotProcess) -> None:
    conn = connect(running)
    try:
        started = time.monotonic()
        trickle(conn, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200, DEADLINE * 3)
        assert closed_by_server(conn)
        assert time.monotonic() - started < DEADLINE * 3.5
    finally:
        conn.close()


def test_a_body_that_never_finishes_is_cut_off(running: BotProcess) -> None:
    conn = connect(running)
    try:
        conn.sendall(
            b"POST /alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"alerts": ['
        )
        started = time.monotonic()
        reply, ended = b"", False
        try:
            while chunk := conn.recv(65536):
                reply += chunk
            ended = True
        except ConnectionResetError:
            ended = True
        except TimeoutError:
            pass
        assert ended, "the server kept waiting for the rest of the body"
        assert time.monotonic() - started < DEADLINE * 3
        assert not reply.startswith(b"HTTP/1.1 2")  # nothing was accepted
    finally:
        conn.close()
    assert httpx.get(f"{running.url}/healthz", timeout=5).status_code == 200
    log = running.log_path.read_text()
    assert "did not send its request in time" in log
    assert "Traceback" not in log, log[-4000:]


def test_a_client_that_sends_its_request_promptly_is_served_and_kept_alive(
    running: BotProcess,
) -> None:
    with httpx.Client(base_url=running.url, timeout=5) as client:
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
            time.sleep(DEADLINE * 1.2)  # idle between requests: keep-alive, not the deadline
        assert client.get("/healthz").status_code == 200
