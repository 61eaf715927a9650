"""A stand-in backend that records every request and answers a fixed way (status, body,
delay), served by sandbox.serve.ServerThread; plus a URL whose port nothing listens on."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive, Scope, Send

from sandbox.serve import ServerThread


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    raw_path: bytes
    query: bytes
    headers: dict[str, str]
    body: bytes


@dataclass
class RecordingBackend:
    """An ASGI app: every request is recorded, then answered with `status` and `body`
    after `delay_s` seconds."""

    status: int = 200
    body: Any = field(default_factory=dict)
    delay_s: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            self.seen.append(
                Seen(
                    scope["method"],
                    scope["path"],
                    scope.get("raw_path") or b"",
                    scope["query_string"],
                    headers,
                    body,
                )
            )
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        payload = json.dumps(self.body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self.seen)


@contextmanager
def serving(backend: RecordingBackend) -> Iterator[str]:
    """Serve `backend` on a loopback port; yields its base URL."""
    with ServerThread(backend) as server:
        yield server.url


def closed_port_url() -> str:
    """http://127.0.0.1:<port> where nothing listens (a stopped process's port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
