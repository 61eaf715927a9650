"""Fixtures for the stand-in API tests: a Claude Messages API stand-in and SDK clients.

One server runs per module; each test gets a fresh `ClaudeSandbox` behind it (a switch app
routes to the current one), so tests stay isolated without paying for a server each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import anthropic
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.claude import ClaudeSandbox
from sandbox.serve import ServerThread

API_KEY = "test-key"

ClientFactory = Callable[..., anthropic.Anthropic]


class SwitchApp:
    """An ASGI app forwarding HTTP to `target`; answers the lifespan protocol itself."""

    def __init__(self) -> None:
        self.target: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert self.target is not None
        await self.target(scope, receive, send)


@pytest.fixture(scope="module")
def claude_server() -> Iterator[tuple[SwitchApp, str]]:
    switch = SwitchApp()
    server = ServerThread(switch).start()
    yield switch, server.url
    server.stop()


@pytest.fixture
def claude(claude_server: tuple[SwitchApp, str]) -> tuple[ClaudeSandbox, str]:
    """A fresh Claude stand-in accepting the key `test-key`, and its URL."""
    switch, url = claude_server
    sandbox = ClaudeSandbox(api_keys={API_KEY}, min_cacheable_tokens=1024)
    switch.target = sandbox.app
    return sandbox, url


@pytest.fixture
def make_client(claude: tuple[ClaudeSandbox, str]) -> Iterator[ClientFactory]:
    """Real `anthropic.Anthropic` clients pointed at the stand-in (no retries unless asked)."""
    clients: list[anthropic.Anthropic] = []

    def make(max_retries: int = 0, timeout: float = 10.0, **options: object) -> anthropic.Anthropic:
        options.setdefault("api_key", API_KEY)
        client = anthropic.Anthropic(
            base_url=claude[1],
            max_retries=max_retries,
            timeout=timeout,
            **options,  # type: ignore[arg-type]
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
