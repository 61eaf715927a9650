"""`opsbot dev` and `opsbot sandbox`: the local world for trying opsbot without Slack.

The only runtime module that touches `sandbox/` (import-linter allows exactly these edges).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from bot.app.server import serve
from bot.settings import load_settings
from sandbox.slack.config import SlackConfig
from sandbox.slack.workspace import SlackWorkspace
from sandbox.world import World, WorldOptions
from sandbox.world.cli import main as sandbox_main

console = Console(soft_wrap=True)  # a banner line stays one line in logs and pipes
DEV_POLICY = Path(__file__).with_name("dev_policy.yaml")


def sandbox_command(argv: Sequence[str]) -> int:
    """`opsbot sandbox up|down|status ...`: the sandbox's own command line."""
    return sandbox_main(list(argv), prog="opsbot sandbox")


def scenario_names() -> list[str]:
    """The scenario packs `opsbot dev --scenario` can play."""
    from sandbox.scenarios.catalog import scenario_names as names

    return names()


def _play_when_ready(world: World, bot_port: int) -> None:
    """Alerts go out once the bot listens (Alertmanager would retry anyway)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{bot_port}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    world.play()
    console.print("  alerts sent through Alertmanager; watch #incidents")


def scan_soon_then_hourly(now: datetime) -> str:
    """A crontab (with seconds) firing a minute after `now`, then every hour: the capacity
    scan shows its incident at once instead of at the shipped schedule's minute."""
    due = now + timedelta(minutes=1)
    return f"{due.second} {due.minute} * * * *"


def run_dev(port: int, bot_port: int, socket_mode: bool, scenario: str | None = None) -> None:
    secret = secrets.token_hex(16)
    bot_url = f"http://127.0.0.1:{bot_port}/slack/events"
    slack_config = SlackConfig(
        signing_secret=secret,
        bot_url=None if socket_mode else bot_url,
        delivery="socket" if socket_mode else "http",
    )
    world: World | None = None
    groups: dict[str, dict[str, Any]] = {"server": {"port": bot_port}}
    if scenario:
        world = World(WorldOptions(slack=slack_config, slack_port=port, history=6 * 3600)).start()
        world.route_alerts_to(f"http://127.0.0.1:{bot_port}/alertmanager")
        console.print(f"[bold]loading scenario {scenario}[/] into every backend…")
        loaded = world.load(scenario)
        assert world.slack is not None  # the world was started with a workspace
        workspace = world.slack
        urls = world.urls
        groups["tools"] = {
            "prometheus_url": urls.prometheus,
            "logs_url": urls.opensearch,
            "logs_flavor": "opensearch",
            "jaeger_url": urls.jaeger,
            "kubeconfig": urls.kubeconfig,
        }
        groups["alertmanager"] = {"url": urls.alertmanager, "allow_unauthenticated": True}
        groups["policy"] = {"files": str(DEV_POLICY)}
        if loaded.scenario.spec.capacity_history:
            groups["capacity"] = {"scan_schedule": scan_soon_then_hourly(datetime.now(UTC))}
        url = workspace.require_base_url()
    else:
        workspace = SlackWorkspace(slack_config)
        url = workspace.serve(port=port)
    # The local world's Alertmanager posts without credentials, on loopback.
    groups.setdefault("alertmanager", {"allow_unauthenticated": True})
    groups["slack"] = {
        "bot_token": workspace.config.bot_token,
        "signing_secret": secret,
        "api_url": workspace.api_url,
        "app_token": workspace.config.app_token if socket_mode else None,
    }
    settings = load_settings(**groups)
    console.print(f"[bold green]opsbot dev[/] workspace: [link={url}]{url}[/link]")
    console.print(
        f"  bot: http://127.0.0.1:{bot_port} ({'Socket Mode' if socket_mode else 'HTTP mode'}), "
        f"database {settings.database.url}, cache "
        f"{'redis' if settings.cache.url else 'in-process'}, "
        f"{'Claude' if settings.llm.enabled else 'pattern engine'}"
    )
    console.print("  try: [bold]/ask-ai help[/] in #incidents · Ctrl-C stops")
    if "capacity" in groups:
        console.print(
            "  capacity: the forecast scan runs a minute after start (then hourly) and opens "
            "its incident in #incidents; try [bold]/opsbot capacity[/] and "
            "[bold]/opsbot digest capacity now[/]"
        )
    if world is not None:
        threading.Thread(target=_play_when_ready, args=(world, bot_port), daemon=True).start()
    try:
        serve(settings)
    finally:
        if world is not None:
            world.stop()
        else:
            workspace.close()
