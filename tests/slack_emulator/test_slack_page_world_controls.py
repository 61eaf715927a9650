"""The page's world controls (Start an incident, Reset world): shown only when a host gives
them, run one at a time in the background, and say what they are doing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from sandbox.slack.devcontrols import DevControls
from sandbox.slack.workspace import SlackWorkspace

TIMEOUT = 30.0  # a loaded machine answers slowly


def poll_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll through the page's own endpoint (not under the workspace's lock)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.1)


def test_a_workspace_without_a_world_shows_no_controls_and_refuses_them(
    slack: SlackWorkspace,
) -> None:
    state = httpx.get(
        f"{slack.base_url}/ui/state", params={"user": "U0ALICE"}, timeout=TIMEOUT
    ).json()
    assert state["dev"] is None
    answer = httpx.post(
        f"{slack.base_url}/ui/start-incident", json={"scenario": "oom-kill"}, timeout=TIMEOUT
    )
    assert answer.status_code == 400


def test_starting_an_incident_from_the_page_runs_it_in_the_background_and_says_so(
    slack: SlackWorkspace,
) -> None:
    release = threading.Event()
    started: list[str] = []

    def start(name: str) -> None:
        started.append(name)
        release.wait(5)

    slack.dev_controls = DevControls(
        scenarios=["oom-kill", "bad-image"],
        start=start,
        reset=lambda: None,
        notify=slack.state.touch,
    )
    url = slack.base_url
    first = httpx.post(
        f"{url}/ui/start-incident",
        json={"user": "U0ALICE", "scenario": "oom-kill"},
        timeout=TIMEOUT,
    )
    assert first.json() == {"ok": True, "status": "starting oom-kill"}
    busy = httpx.post(f"{url}/ui/reset-world", json={"user": "U0ALICE"}, timeout=TIMEOUT)
    assert busy.status_code == 400
    assert "busy" in busy.json()["error"]
    unknown = httpx.post(
        f"{url}/ui/start-incident", json={"scenario": "no-such-pack"}, timeout=TIMEOUT
    )
    assert unknown.status_code == 400
    release.set()

    def status() -> str:
        state = httpx.get(f"{url}/ui/state", params={"user": "U0ALICE"}, timeout=TIMEOUT).json()
        return str(state["dev"]["status"])

    poll_until(lambda: status() == "playing oom-kill")
    assert started == ["oom-kill"]
    state = httpx.get(f"{url}/ui/state", params={"user": "U0ALICE"}, timeout=TIMEOUT).json()
    assert state["dev"]["scenarios"] == ["oom-kill", "bad-image"]
    assert httpx.post(f"{url}/ui/reset-world", json={}, timeout=TIMEOUT).json()["ok"] is True
    poll_until(lambda: status() == "healthy")


def test_a_failed_start_shows_why_on_the_page(slack: SlackWorkspace) -> None:
    def start(name: str) -> None:
        raise RuntimeError(f"{name}: promtool exited 1")

    slack.dev_controls = DevControls(scenarios=["oom-kill"], start=start, reset=lambda: None)
    httpx.post(
        f"{slack.base_url}/ui/start-incident", json={"scenario": "oom-kill"}, timeout=TIMEOUT
    )
    slack.wait_for(
        lambda: (
            slack.dev_controls is not None
            and slack.dev_controls.status == "failed: oom-kill: promtool exited 1"
        ),
        timeout=5,
    )


def test_a_dev_run_started_with_a_scenario_does_not_call_its_world_healthy() -> None:
    from typing import cast

    from bot.cli.devworld import page_controls
    from sandbox.world import World

    unused_world = cast(World, object())  # the controls touch the world only when clicked
    started = page_controls(unused_world, lambda: None, playing="oom-kill")
    assert started.snapshot()["status"] == "playing oom-kill"
    assert page_controls(unused_world, lambda: None).snapshot()["status"] == "healthy"
