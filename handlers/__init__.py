"""The edges: Slack listeners and HTTP endpoints. Each module exports `register(app, rt)`."""

from __future__ import annotations

from slack_bolt import App
from starlette.applications import Starlette

from bot.runtime import Runtime
from handlers import alertmanager, commands, events, http, incident_actions

SLACK_MODULES = (commands, events, incident_actions)
HTTP_MODULES = (http, alertmanager)


def register_slack(app: App, rt: Runtime) -> None:
    for module in SLACK_MODULES:
        module.register(app, rt)


def register_http(app: Starlette, rt: Runtime) -> None:
    for module in HTTP_MODULES:
        module.register(app, rt)
