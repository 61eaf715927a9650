"""Fixtures: a served emulated workspace, a WebClient on it, and a Bolt app it delivers to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.serve import ServerThread
from sandbox.slack import SlackConfig, SlackWorkspace

FAST_RETRIES = (0.0, 0.05, 0.05)


@pytest.fixture
def workspace() -> Iterator[SlackWorkspace]:
    """Rate limits off (tests of limits turn them on), no bot to deliver to."""
    ws = SlackWorkspace(
        SlackConfig(
            bot_url=None, event_retry_delays_s=FAST_RETRIES, post_message_rate=0, update_rate=0
        )
    )
    ws.serve()
    yield ws
    ws.close()


@pytest.fixture
def client(workspace: SlackWorkspace) -> WebClient:
    return WebClient(token=workspace.config.bot_token, base_url=workspace.api_url)


class BoltHttpEndpoint:
    """A Bolt app's request URL on loopback: /slack/events hands each request to app.dispatch."""

    def __init__(self) -> None:
        self.app: App | None = None
        routes = [Route("/slack/events", self._endpoint, methods=["POST"])]
        self.server = ServerThread(Starlette(routes=routes))

    @property
    def url(self) -> str:
        return f"{self.server.url}/slack/events"

    async def _endpoint(self, request: Request) -> Response:
        assert self.app is not None
        bolt_request = BoltRequest(
            body=(await request.body()).decode(),
            query=request.url.query,
            headers=dict(request.headers.items()),
        )
        answer = await run_in_threadpool(self.app.dispatch, bolt_request)
        return Response(
            answer.body,
            status_code=answer.status,
            headers=answer.first_headers_without_set_cookie(),
        )


@dataclass
class BoltHttp:
    workspace: SlackWorkspace
    app: App
    url: str


@pytest.fixture
def bolt_http() -> Iterator[BoltHttp]:
    """A sync Bolt App served over HTTP, and a workspace delivering to it."""
    endpoint = BoltHttpEndpoint()
    ws = SlackWorkspace(
        SlackConfig(bot_url=endpoint.url, event_retry_delays_s=FAST_RETRIES, post_message_rate=0)
    )
    ws.serve()
    endpoint.server.start()
    app = App(
        signing_secret=ws.config.signing_secret,
        client=WebClient(token=ws.config.bot_token, base_url=ws.api_url),
    )

    @app.event("message")
    def ignore_plain_messages() -> None:
        return None

    endpoint.app = app
    yield BoltHttp(ws, app, endpoint.url)
    ws.close()
    endpoint.server.stop()
