"""The whole sandbox, from the command line: up | status | down.

up starts every server on free loopback ports (optionally loads and plays a scenario),
writes the state file and returns; `--foreground` keeps it in this terminal instead.
status reads the state file and checks each server; down stops them all.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import httpx

from sandbox.scenarios.catalog import ScenarioError, scenario_names
from sandbox.scenarios.timeline import parse_duration
from sandbox.slack.config import SlackConfig
from sandbox.world.backends import WorldOptions
from sandbox.world.statefile import SandboxState, alive, command_line, default_state_path
from sandbox.world.world import World

READY_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0
HEALTH_PATHS = {
    "prometheus": "/-/ready",
    "alertmanager": "/-/ready",
    "opensearch": "/",
    "jaeger": "/api/services",
    "kube": "/readyz",
    "slack": "/",
}


def parse_args(argv: Sequence[str], prog: str = "python -m sandbox") -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--state", type=Path, default=default_state_path(), help="state file")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the sandbox")
    up.add_argument("--scenario", choices=scenario_names(), help="load and play this scenario")
    up.add_argument("--foreground", action="store_true", help="run here until Ctrl-C")
    up.add_argument("--history", default="12h", help="metric history (default 12h)")
    up.add_argument("--step", default="60s", help="metric sample step (default 60s)")
    up.add_argument("--webhook", help="Alertmanager receiver URL (the bot's /alertmanager)")
    up.add_argument("--no-slack", action="store_true", help="no Slack workspace")
    up.add_argument("--slack-port", type=int, default=0)
    up.add_argument("--slack-bot-url", help="where the workspace delivers events to the bot")
    up.add_argument("--slack-signing-secret", default=SlackConfig().signing_secret)
    up.add_argument("--claude", action="store_true", help="start the scripted Claude")
    up.add_argument("--claude-script", type=Path, action="append", default=[])
    sub.add_parser("status", help="is the sandbox up, and each server healthy")
    sub.add_parser("down", help="stop the sandbox")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, prog: str = "python -m sandbox") -> int:
    """Run `up`, `status` or `down`; `prog` names the command in usage lines."""
    args = parse_args(sys.argv[1:] if argv is None else argv, prog)
    if args.command == "up":
        return run_foreground(args) if args.foreground else start_detached(args, argv)
    if args.command == "status":
        return status(args.state)
    return down(args.state)


def options_from(args: argparse.Namespace) -> WorldOptions:
    slack = None
    if not args.no_slack:
        slack = SlackConfig(bot_url=args.slack_bot_url, signing_secret=args.slack_signing_secret)
    return WorldOptions(
        history=parse_duration(args.history),
        step=parse_duration(args.step),
        slack=slack,
        slack_port=args.slack_port,
        claude=args.claude,
        claude_scripts=tuple(args.claude_script),
        webhook_url=args.webhook,
    )


def _running(path: Path) -> SandboxState | None:
    state = SandboxState.read(path)
    return state if state is not None and alive(state.pid) else None


def run_foreground(args: argparse.Namespace) -> int:
    if (other := _running(args.state)) is not None:
        print(f"the sandbox already runs (pid {other.pid}); `down` it first", file=sys.stderr)
        return 1
    stop = threading.Event()

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    started = time.monotonic()
    world = World(options_from(args)).start()
    try:
        alerts: list[str] = []
        if args.scenario:
            loaded = world.run_scenario(args.scenario)
            alerts = sorted({alert.name for alert in loaded.alerts})
        state = SandboxState(
            pid=os.getpid(),
            started=datetime.now(UTC).isoformat(timespec="seconds"),
            urls=world.urls.as_dict(),
            children=world.pids(),
            workdir=str(world.workdir),
            scenario=args.scenario,
            alerts=alerts,
        )
        state.write(args.state)
        _print_state(state, time.monotonic() - started)
        stop.wait()
    except ScenarioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        world.stop()
        current = SandboxState.read(args.state)
        if current is not None and current.pid == os.getpid():
            args.state.unlink(missing_ok=True)
    return 0


def start_detached(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    if (other := _running(args.state)) is not None:
        print(f"the sandbox already runs (pid {other.pid})", file=sys.stderr)
        _print_state(other)
        return 1
    args.state.unlink(missing_ok=True)
    log_path = args.state.with_suffix(".log")
    forwarded = list(sys.argv[1:] if argv is None else argv)
    command = [sys.executable, "-m", "sandbox", *forwarded, "--foreground"]
    with log_path.open("wb") as log:
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        state = SandboxState.read(args.state)
        if state is not None and state.pid == child.pid:
            state.log = str(log_path)
            state.write(args.state)
            _print_state(state)
            return 0
        if child.poll() is not None:
            print(f"the sandbox failed to start:\n{log_path.read_text()[-3000:]}", file=sys.stderr)
            return 1
        time.sleep(0.1)
    child.terminate()
    print(f"the sandbox did not start in {READY_TIMEOUT:.0f}s; see {log_path}", file=sys.stderr)
    return 1


def _print_state(state: SandboxState, seconds: float | None = None) -> None:
    took = f" in {seconds:.1f}s" if seconds is not None else ""
    print(f"sandbox up{took} (pid {state.pid})", flush=True)
    for name, url in state.urls.items():
        if url:
            print(f"  {name:13} {url}", flush=True)
    if state.scenario:
        print(f"  scenario      {state.scenario}: {', '.join(state.alerts)}", flush=True)


def status(path: Path) -> int:
    state = SandboxState.read(path)
    if state is None or not alive(state.pid):
        print("sandbox: not running")
        return 3
    healthy = True
    print(f"sandbox: running (pid {state.pid}, since {state.started})")
    with httpx.Client(timeout=3) as client:
        for name, url in state.urls.items():
            if not url or name not in HEALTH_PATHS:
                continue
            try:
                ok = client.get(url + HEALTH_PATHS[name]).status_code < 500
            except httpx.HTTPError:
                ok = False
            healthy = healthy and ok
            print(f"  {name:13} {'up  ' if ok else 'DOWN'} {url}")
    if state.scenario:
        print(f"  scenario      {state.scenario}")
    return 0 if healthy else 1


def down(path: Path) -> int:
    state = SandboxState.read(path)
    if state is None:
        print("sandbox: not running")
        return 0
    if alive(state.pid):
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while alive(state.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(state.pid):
            os.kill(state.pid, signal.SIGKILL)
    for name, pid in state.children.items():
        if alive(pid) and name.split("-")[0] in command_line(pid):
            os.kill(pid, signal.SIGKILL)  # orphaned by a killed holder: ours by name and pid
    path.unlink(missing_ok=True)
    print("sandbox: stopped")
    return 0
