"""A layer-4 round-robin load balancer for running several bot replicas behind one address.

It behaves like a cloud network load balancer (or HAProxy in `mode tcp`): each accepted TCP
connection goes to the next backend in turn; a backend that refuses the connection is skipped
and the next one tried, so a killed replica drops out until it listens again. Keep-alive
connections stay on the backend they were opened to, as they do behind a real L4 balancer.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections import Counter
from types import TracebackType


class Balancer:
    """`Balancer([("127.0.0.1", 3001), ...]).start()` → `url` spreads connections over them."""

    def __init__(self, backends: list[tuple[str, int]], host: str = "127.0.0.1") -> None:
        if not backends:
            raise ValueError("a balancer needs at least one backend")
        self.backends = list(backends)
        self.connections: Counter[tuple[str, int]] = Counter()
        self.refused = 0
        self._next = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"balancer-{self.port}", daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Balancer:
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("balancer did not start")
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    async def _shutdown(self) -> None:
        """Stop accepting and cut every relayed connection, as a balancer going away does."""
        if self._server is not None:
            self._server.close()
        relays = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in relays:
            task.cancel()
        await asyncio.gather(*relays, return_exceptions=True)

    def __enter__(self) -> Balancer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, sock=self._sock)
        )
        self._ready.set()
        self._loop.run_forever()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            backend = self.backends[self._next % len(self.backends)]
            self._next += 1
            try:
                streams = await asyncio.open_connection(*backend)
            except OSError:
                self.refused += 1
                continue
            self.connections[backend] += 1
            return streams
        return None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:  # every backend is down: close, as an NLB resets the connection
            writer.close()
            return
        up_reader, up_writer = upstream
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            sink.close()
