"""The edges: Slack listeners and HTTP endpoints. Each module exports `register(app, rt)`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from slack_bolt import App
from starlette.applications import Starlette

from bot.app.runtime import Runtime
from handlers import (
    alertmanager,
    approvals,
    ask,
    commands,
    events,
    http,
    incident_actions,
    opsbot_command,
)

# ask first: its thread matchers
SLACK_MODULES = (ask, commands, events, incident_actions, approvals, opsbot_command)
HTTP_MODULES = (http, alertmanager)


def register_slack(app: App, rt: Runtime) -> None:
    for module in SLACK_MODULES:
        module.register(app, rt)


def register_http(
    app: Starlette, rt: Runtime, readiness: Mapping[str, Callable[[], str]] | None = None
) -> None:
    """HTTP endpoints; `readiness` adds /readyz checks (e.g. the Socket Mode connection)."""
    http.register(app, rt, readiness or {})
    alertmanager.register(app, rt)
