"""The edges: Slack listeners and HTTP endpoints. Each module exports `register(app, deps)`."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from handlers import commands, events

SLACK_MODULES = (commands, events)


def register_slack(app: App, deps: Deps) -> None:
    for module in SLACK_MODULES:
        module.register(app, deps)
