"""The ASGI application: Slack's HTTP-mode endpoints plus the operational endpoints,
and the process entry point that serves it (with Socket Mode alongside when configured)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import uvicorn
from slack_bolt import App
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import handlers.alertmanager
import handlers.approvals
import handlers.ask
import handlers.commands
import handlers.events
import handlers.http
import handlers.incident_actions
import handlers.opsbot_command
from bot.app.deadline import with_read_deadline
from bot.app.memdiag import watch_allocations
from bot.app.runtime import Runtime, build_runtime
from bot.deps import Deps, build_deps
from bot.errors import BadInput
from bot.incidents.pipeline import RETRY_AFTER_SECONDS
from bot.logs import configure_logging, get_logger
from bot.metrics import Metrics
from bot.settings import Settings, require_slack
from bot.slack.app import build_app, build_client
from bot.slack.edge import SlackEdge
from bot.slack.socket_mode import SocketModeConnection

log = get_logger("opsbot.server")
SLACK_PATHS = ("/slack/events", "/slack/commands", "/slack/interactivity")
KNOWN_ROUTES = (
    *SLACK_PATHS,
    "/alertmanager",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
)


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
            route = path if path in KNOWN_ROUTES else "other"
            self.metrics.http_requests.labels(route, str(status)).inc()


async def refuse_bad_input(_request: Request, exc: Exception) -> Response:
    """Any BadInput that reaches the top (e.g. a body cut off mid-read) is its 4xx, not a
    500 with a traceback: the request was the problem, not the bot."""
    status = exc.status if isinstance(exc, BadInput) else 400
    return JSONResponse({"error": str(exc)}, status_code=status)


@dataclass
class Bot:
    runtime: Runtime
    slack: App
    asgi: Starlette
    # Socket Mode's link to Slack (None in HTTP mode); opened by connect_socket_mode.
    socket_mode: SocketModeConnection | None = None

    @property
    def deps(self) -> Deps:
        return self.runtime.deps


def register_slack(app: App, runtime: Runtime) -> None:
    """Every Slack listener, each handed only the part it calls and the worker pool."""
    run_later = runtime.deps.run_later
    handlers.ask.register(app, runtime.conversations, run_later)
    handlers.events.register(app, runtime.conversations, run_later)
    handlers.commands.register(app, runtime.incident_desk, run_later)
    handlers.incident_actions.register(app, runtime.incident_desk, run_later)
    handlers.approvals.register(app, runtime.approval_desk, run_later)
    handlers.opsbot_command.register(app, runtime.operator, run_later)


def register_http(
    app: Starlette, runtime: Runtime, readiness: Mapping[str, Callable[[], str]]
) -> None:
    """The operational endpoints (with `readiness`'s extra checks) and the webhook."""
    deps = runtime.deps
    settings = deps.settings.alertmanager
    warnings = []
    if not settings.authenticated:
        warnings.append("the Alertmanager webhook accepts requests without credentials")
    handlers.http.register(
        app,
        deps.metrics.registry,
        {"database": deps.db.ping, "cache": deps.cache.ping},
        readiness,
        warnings,
    )
    handlers.alertmanager.register(app, settings, runtime.pipeline.accept, RETRY_AFTER_SECONDS)


def build_bot(settings: Settings) -> Bot:
    """Wire everything; nothing runs until `runtime.start()`."""
    require_slack(settings)
    deps = build_deps(settings)
    client = build_client(settings.slack, deps.db)
    slack = build_app(settings.slack, deps.db, deps.metrics, settings.server.worker_threads, client)
    runtime = build_runtime(deps, client)
    register_slack(slack, runtime)
    asgi = Starlette()
    if settings.slack.mode == "http":
        edge = SlackEdge(slack, settings.slack, deps.metrics, deps.cache)
        for path in SLACK_PATHS:
            asgi.add_route(path, edge.handle, methods=["POST"])
    token = settings.slack.app_token
    socket_mode = None if token is None else SocketModeConnection(slack, token.get_secret_value())
    readiness = {} if socket_mode is None else {"socket_mode": socket_mode.readiness}
    register_http(asgi, runtime, readiness)
    asgi.add_exception_handler(BadInput, refuse_bad_input)
    asgi.add_middleware(CountRequests, metrics=deps.metrics)
    return Bot(runtime=runtime, slack=slack, asgi=asgi, socket_mode=socket_mode)


def connect_socket_mode(bot: Bot) -> SocketModeConnection | None:
    """Open the Socket Mode connection when SLACK_APP_TOKEN is set (None in HTTP mode)."""
    if bot.socket_mode is None:
        return None
    bot.socket_mode.connect()
    log.info("socket mode connected")
    return bot.socket_mode


def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM: the HTTP server, plus a Socket Mode connection if set."""
    configure_logging(settings.log)
    allocations = watch_allocations(settings.log.tracemalloc_seconds)
    bot = build_bot(settings)
    bot.runtime.start()
    socket_mode = connect_socket_mode(bot)
    server = uvicorn.Server(
        uvicorn.Config(
            bot.asgi,
            host=settings.server.host,
            port=settings.server.port,
            log_level="warning",
            log_config=None,  # uvicorn's records go through our handler (bot.logs)
            lifespan="off",
            timeout_keep_alive=5,  # an idle connection is closed after 5 s
            http=with_read_deadline(settings.server.request_read_timeout),
            h11_max_incomplete_event_size=16_384,  # request line and headers: 16 KiB at most
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
    if not settings.alertmanager.authenticated:
        log.warning(
            "the Alertmanager webhook accepts requests without credentials",
            setting="OPSBOT_ALERTMANAGER_ALLOW_UNAUTHENTICATED",
        )
    try:
        server.run()
    finally:
        if socket_mode is not None:
            socket_mode.close()
        bot.runtime.stop()
        if allocations is not None:
            allocations.stop()
