"""The ASGI application: Slack's HTTP-mode endpoints plus the operational endpoints,
and the process entry point that serves it (with Socket Mode alongside when configured)."""

from __future__ import annotations

from dataclasses import dataclass

import uvicorn
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import handlers
from bot.deps import Deps, build_deps
from bot.logs import configure_logging, get_logger
from bot.metrics import Metrics
from bot.settings import Settings, require_slack
from bot.slack_app import build_app
from bot.slack_edge import SlackEdge
from handlers import http as http_handlers

log = get_logger("opsbot.server")
SLACK_PATHS = ("/slack/events", "/slack/commands", "/slack/interactivity")


class CountRequests:
    """Counts every HTTP response by route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            path = scope.get("path", "")
            route = path if path in (*SLACK_PATHS, "/healthz", "/readyz", "/metrics") else "other"
            self.metrics.http_requests.labels(route, str(status)).inc()


@dataclass
class Bot:
    deps: Deps
    slack: App
    asgi: Starlette


def build_bot(settings: Settings) -> Bot:
    require_slack(settings)
    deps = build_deps(settings)
    slack = build_app(deps)
    handlers.register_slack(slack, deps)
    asgi = Starlette()
    if settings.slack.mode == "http":
        edge = SlackEdge(slack, deps)
        for path in SLACK_PATHS:
            asgi.add_route(path, edge.handle, methods=["POST"])
    http_handlers.register(asgi, deps)
    asgi.add_middleware(CountRequests, metrics=deps.metrics)
    return Bot(deps=deps, slack=slack, asgi=asgi)


def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM: the HTTP server, plus a Socket Mode connection if set."""
    configure_logging(settings.log)
    bot = build_bot(settings)
    socket_mode: SocketModeHandler | None = None
    if settings.slack.mode == "socket" and settings.slack.app_token is not None:
        socket_mode = SocketModeHandler(bot.slack, settings.slack.app_token.get_secret_value())
        socket_mode.connect()  # type: ignore[no-untyped-call]
        log.info("socket mode connected")
    server = uvicorn.Server(
        uvicorn.Config(
            bot.asgi,
            host=settings.server.host,
            port=settings.server.port,
            log_level="warning",
            lifespan="off",
        )
    )
    log.info(
        "opsbot serving",
        url=f"http://{settings.server.host}:{settings.server.port}",
        slack_mode=settings.slack.mode,
        database=settings.database.url.split(":")[0],
        cache="redis" if settings.cache.url else "memory",
        llm="claude" if settings.llm.enabled else "pattern engine",
    )
    try:
        server.run()
    finally:
        if socket_mode is not None:
            socket_mode.close()  # type: ignore[no-untyped-call]
        bot.deps.close()
