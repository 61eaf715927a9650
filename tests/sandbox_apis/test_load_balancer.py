"""The L4 balancer that puts several replicas behind one address spreads and fails over."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sandbox.balancer import Balancer
from sandbox.serve import ServerThread


def _named(name: str) -> Starlette:
    async def who(request: Request) -> PlainTextResponse:
        return PlainTextResponse(name)

    return Starlette(routes=[Route("/", who)])


def _ask(url: str) -> str:
    # A fresh client per request: a new TCP connection, so the balancer picks again.
    with httpx.Client(timeout=5) as client:
        return client.get(url).text


def test_connections_alternate_between_replicas_and_a_dead_one_is_skipped() -> None:
    first, second = ServerThread(_named("a")).start(), ServerThread(_named("b")).start()
    try:
        with Balancer([(first.host, first.port), (second.host, second.port)]) as balancer:
            answers = [_ask(balancer.url) for _ in range(6)]
            assert answers.count("a") == 3
            assert answers.count("b") == 3
            second.stop()
            assert {_ask(balancer.url) for _ in range(4)} == {"a"}
            assert balancer.refused >= 1
    finally:
        first.stop()


def test_a_balancer_with_every_replica_down_closes_the_connection() -> None:
    server = ServerThread(_named("a")).start()
    address = (server.host, server.port)
    server.stop()
    with (
        Balancer([address]) as balancer,
        httpx.Client(timeout=5) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.get(balancer.url)
