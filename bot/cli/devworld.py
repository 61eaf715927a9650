"""`opsbot dev` and `opsbot sandbox`: the local world for trying opsbot without Slack.

The only runtime module that touches `sandbox/` (import-linter allows exactly these edges).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from rich.console import Console

from bot.app.server import serve
from bot.settings import Settings, load_settings
from sandbox.slack.config import SlackConfig
from sandbox.slack.workspace import SlackWorkspace

if TYPE_CHECKING:  # the sandbox's world is imported when one is started (not with --bare)
    from sandbox.slack.devcontrols import DevControls
    from sandbox.world import World

console = Console(soft_wrap=True)  # a banner line stays one line in logs and pipes
DEV_POLICY = Path(__file__).with_name("dev_policy.yaml")
DEV_ROUTING = Path(__file__).with_name("dev_routing.yaml")
DEV_HISTORY_S = 2 * 3600  # metric history loaded per scenario: enough for 1h queries, fast


def sandbox_command(argv: Sequence[str]) -> int:
    """`opsbot sandbox up|down|status ...`: the sandbox's own command line."""
    from sandbox.world.cli import main as sandbox_main

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


def start_world(
    slack_config: SlackConfig, port: int, bot_port: int, scenario: str | None
) -> tuple[World, dict[str, dict[str, Any]]]:
    """The sandbox with healthy traffic loaded (then `scenario`, if any), and the settings
    groups that point the bot at it."""
    from sandbox.scenarios.healthy import healthy_scenario
    from sandbox.world import World, WorldOptions

    options = WorldOptions(slack=slack_config, slack_port=port, history=DEV_HISTORY_S)
    world = World(options).start()
    world.route_alerts_to(f"http://127.0.0.1:{bot_port}/alertmanager")
    console.print("[bold]loading the sandbox shop[/] (healthy traffic) into every backend…")
    world.load(healthy_scenario())
    capacity = False
    if scenario:
        console.print(f"[bold]loading scenario {scenario}[/] into every backend…")
        capacity = bool(world.load(scenario).scenario.spec.capacity_history)
    urls = world.urls
    groups: dict[str, dict[str, Any]] = {
        "tools": {
            "prometheus_url": urls.prometheus,
            "logs_url": urls.opensearch,
            "logs_flavor": "opensearch",
            "jaeger_url": urls.jaeger,
            "kubeconfig": urls.kubeconfig,
            "kube_namespace": "prod",  # the shop's namespace
        },
        "alertmanager": {
            "url": urls.alertmanager,
            "rules_file": str(DEV_ROUTING),
            "allow_unauthenticated": True,  # the sandbox's Alertmanager, on loopback
        },
        "policy": {"files": str(DEV_POLICY)},
    }
    if capacity:
        groups["capacity"] = {"scan_schedule": scan_soon_then_hourly(datetime.now(UTC))}
    assert world.slack is not None
    world.slack.dev_controls = page_controls(world, world.slack.state.touch, playing=scenario)
    return world, groups


def page_controls(
    world: World, notify: Callable[[], None], playing: str | None = None
) -> DevControls:
    """The page's "Start an incident" menu and "Reset world" button, acting on `world`
    without a restart: a scenario is loaded into every backend and its alerts played; a
    reset resolves them and loads healthy traffic again. `playing`: the scenario the run
    started with (`--scenario`), so the page does not call that world healthy."""
    from sandbox.scenarios.healthy import healthy_scenario
    from sandbox.slack.devcontrols import DevControls

    def start(name: str) -> None:
        console.print(f"[bold]starting scenario {name}[/] from the page…")
        world.load(name)
        world.play()

    def reset() -> None:
        console.print("[bold]resetting the world[/] to healthy traffic…")
        world.load(healthy_scenario())

    names = [n for n in scenario_names() if n != "capacity"]
    status = f"playing {playing}" if playing else "healthy"
    return DevControls(scenarios=names, start=start, reset=reset, notify=notify, status=status)


def dev_database(keep_state: bool) -> tuple[dict[str, Any], Path | None]:
    """The database group for a dev run: a fresh SQLite file in a temporary folder (removed
    when the run ends), or, with `keep_state`, whatever the settings say (default
    `opsbot.db` here), so incidents of an earlier run do not join this one's."""
    if keep_state:
        return {}, None
    folder = Path(tempfile.mkdtemp(prefix="opsbot-dev-"))
    return {"url": f"sqlite:///{folder / 'opsbot.db'}"}, folder


def print_banner(
    url: str,
    settings: Settings,
    bot_port: int,
    socket_mode: bool,
    keep_state: bool,
    live: bool,
    capacity: bool = False,
) -> None:
    """What runs where, and what to try first."""
    console.print(f"[bold green]opsbot dev[/] workspace: [link={url}]{url}[/link]")
    console.print(
        f"  bot: http://127.0.0.1:{bot_port} ({'Socket Mode' if socket_mode else 'HTTP mode'}), "
        f"database {settings.database.url}{' (kept between runs)' if keep_state else ''}, "
        f"cache {'redis' if settings.cache.url else 'in-process'}, "
        f"{'Claude' if settings.llm.enabled else 'pattern engine'}"
    )
    if not live:
        console.print("  bare: no data sources; try [bold]/ask-ai help[/] in #incidents")
    else:
        console.print(
            "  the sandbox shop is live: try [bold]/ask-ai why is checkout slow?[/] in "
            "#incidents; start an incident from the page's menu (or --scenario NAME)"
        )
    if capacity:
        console.print(
            "  capacity: the forecast scan runs a minute after start (then hourly) and opens "
            "its incident in #incidents; try [bold]/opsbot capacity[/] and "
            "[bold]/opsbot digest capacity now[/]"
        )


def run_dev(
    port: int,
    bot_port: int,
    socket_mode: bool,
    scenario: str | None = None,
    *,
    bare: bool = False,
    keep_state: bool = False,
) -> None:
    """The workspace page, the bot, and (unless `bare`) the sandbox shop with healthy
    traffic wired in as the bot's data sources; `scenario` starts an incident at once."""
    started = time.monotonic()
    secret = secrets.token_hex(16)
    bot_url = f"http://127.0.0.1:{bot_port}/slack/events"
    slack_config = SlackConfig(
        signing_secret=secret,
        bot_url=None if socket_mode else bot_url,
        delivery="socket" if socket_mode else "http",
    )
    world: World | None = None
    database, scratch = dev_database(keep_state)
    groups: dict[str, dict[str, Any]] = {"server": {"port": bot_port}}
    if database:
        groups["database"] = database
    if not bare:
        world, tools = start_world(slack_config, port, bot_port, scenario)
        groups.update(tools)
        assert world.slack is not None  # the world was started with a workspace
        workspace = world.slack
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
    live = world is not None
    print_banner(
        url, settings, bot_port, socket_mode, keep_state, live, capacity="capacity" in groups
    )
    console.print(f"  ready in {time.monotonic() - started:.1f} s · Ctrl-C stops")
    if world is not None and scenario:
        threading.Thread(target=_play_when_ready, args=(world, bot_port), daemon=True).start()
    try:
        serve(settings)
    finally:
        if world is not None:
            world.stop()
        else:
            workspace.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
