"""`opsbot dev`: a local Slack workspace in the browser with the bot connected to it.

The only runtime module that touches `sandbox/` (import-linter allows exactly this edge).
"""

from __future__ import annotations

import secrets
from typing import Any

from rich.console import Console

from bot.server import serve
from bot.settings import load_settings
from sandbox.slack.config import SlackConfig
from sandbox.slack.workspace import SlackWorkspace


def run_dev(port: int, bot_port: int, socket_mode: bool) -> None:
    console = Console()
    secret = secrets.token_hex(16)
    bot_url = f"http://127.0.0.1:{bot_port}/slack/events"
    workspace = SlackWorkspace(
        SlackConfig(
            signing_secret=secret,
            bot_url=None if socket_mode else bot_url,
            delivery="socket" if socket_mode else "http",
        )
    )
    url = workspace.serve(port=port)
    slack: dict[str, Any] = {
        "bot_token": workspace.config.bot_token,
        "signing_secret": secret,
        "api_url": workspace.api_url,
        "app_token": workspace.config.app_token if socket_mode else None,
    }
    settings = load_settings(slack=slack, server={"port": bot_port})
    console.print(f"[bold green]opsbot dev[/] workspace: [link={url}]{url}[/link]")
    console.print(
        f"  bot: http://127.0.0.1:{bot_port} ({'Socket Mode' if socket_mode else 'HTTP mode'}), "
        f"database {settings.database.url}, cache "
        f"{'redis' if settings.cache.url else 'in-process'}, "
        f"{'Claude' if settings.llm.enabled else 'pattern engine'}"
    )
    console.print("  try: [bold]/ask-ai help[/] in #incidents · Ctrl-C stops")
    try:
        serve(settings)
    finally:
        workspace.close()
