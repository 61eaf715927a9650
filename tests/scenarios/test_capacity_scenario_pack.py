"""The `capacity` scenario pack: the World loads 28 days of capacity history into
Prometheus and the shop cluster into Kubernetes; the bot reading both opens the
"prod/postgres-data runs out in ~5 days" incident from its forecast scan with an
expand_volume card, posts the capacity digest with its charts and answers `/opsbot capacity`.
`opsbot dev --scenario capacity` does the same with the scan scheduled a minute after start."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.cli.devworld import scan_soon_then_hourly
from bot.settings.crontab import parse_schedule
from policies import ActionKind
from sandbox.procs.process import free_port
from sandbox.world import LoadedScenario, World, WorldOptions
from tests.botharness import running_bot, workspace

# The shipped routing without the 2-minute hold on warnings, so threads open at once.
ROUTING = """
reopen_window: 1h
grouping:
  - {name: workload, key: [namespace, workload]}
notify: []
mute: []
routes:
  - {name: everything, channel: incidents}
"""
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def loaded_world() -> Iterator[tuple[World, LoadedScenario]]:
    options = WorldOptions(history=3600, step=60, horizon=1800, slack=None)
    with World(options).start() as world:
        yield world, world.load("capacity")


def test_the_capacity_pack_loads_weeks_of_history_and_its_failed_job_alert(
    loaded_world: tuple[World, LoadedScenario],
) -> None:
    world, loaded = loaded_world
    assert [(a.name, a.labels["job_name"]) for a in loaded.alerts] == [
        ("KubeJobFailed", "nightly-export-28")
    ]
    oldest = httpx.get(
        f"{world.urls.prometheus}/api/v1/query",
        params={
            "query": 'kubelet_volume_stats_used_bytes{persistentvolumeclaim="postgres-data"}',
            "time": loaded.timeline.now - 27 * 86400,
        },
        timeout=10,
    ).json()["data"]["result"]
    assert oldest, "four weeks of history, not the generated hours"


def _headers(slack: Any) -> list[dict[str, Any]]:
    return [m for m in slack.messages("incidents") if m.get("bot_id")]


def test_the_forecast_scan_opens_the_postgres_incident_and_the_digest_posts_charts(
    loaded_world: tuple[World, LoadedScenario], tmp_path: Path
) -> None:
    world, loaded = loaded_world
    now = datetime.fromtimestamp(loaded.timeline.now, UTC)
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING)
    slack = workspace(post_message_rate=0)
    try:
        with running_bot(
            slack,
            database_url=f"sqlite:///{tmp_path / 'bot.db'}",
            tools={"prometheus_url": world.urls.prometheus, "kubeconfig": world.urls.kubeconfig},
            alertmanager={"rules_file": str(routing)},
            capacity={"enabled": False},  # the test runs the scan at the load moment
            digest={"enabled": False},
        ) as bot:
            runtime = bot.bot.runtime
            opened = runtime.capacity_scan.scan_and_open(now)
            assert [p.exhaustion.resource.name for p in opened] == ["postgres-data"]
            days = opened[0].exhaustion.days_likely
            assert days is not None
            assert 4.0 <= days <= 6.5
            (action,) = opened[0].actions
            assert action.kind is ActionKind.EXPAND_VOLUME
            size = action.params.model_dump()["new_size"]
            assert size in {"70Gi", "80Gi"}

            header = slack.wait_for(lambda: _headers(slack), timeout=20)[0]
            assert "prod/postgres-data runs out in" in json.dumps(header)
            card = slack.wait_for(
                lambda: [
                    m
                    for m in slack.thread("incidents", header["ts"])
                    if m["ts"] != header["ts"] and size in json.dumps(m)
                ],
                timeout=30,
            )
            assert card

            run = runtime.digests.run("capacity", now)
            assert run.status == "posted", run.error
            message = next(m for m in slack.messages("ops-digest") if m["ts"] == run.ts)
            blocks = json.dumps(message["blocks"], ensure_ascii=False)
            found = re.search(
                r"\*prod/postgres-data \(volume\)\*: full in \*~([\d.]+) days", blocks
            )
            assert found is not None
            assert "staging/nightly-export-28" in blocks  # the failed Job left behind
            thread = slack.thread("ops-digest", run.ts or "")
            files = [f for reply in thread for f in reply.get("files", [])]
            assert sorted(f["name"] for f in files) == [
                "capacity-forecasts.png",
                "capacity-savings.png",
            ]
            for file in files:
                data = slack.state.files[file["id"]].data
                assert data is not None
                assert data.startswith(PNG)

            slack.slash_command("U0ALICE", "general", "/opsbot", "capacity prod")
            reply = slack.wait_for(
                lambda: [
                    e for e in slack.ephemerals("U0ALICE") if "postgres-data" in json.dumps(e)
                ],
                timeout=60,
            )
            assert reply
    finally:
        slack.close()


def test_opsbot_dev_schedules_the_scan_a_minute_after_start_then_hourly() -> None:
    start = datetime(2025, 3, 12, 9, 59, 30, tzinfo=UTC)
    trigger: CronTrigger = parse_schedule(scan_soon_then_hourly(start))
    first = trigger.get_next_fire_time(None, start)
    assert first == datetime(2025, 3, 12, 10, 0, 30, tzinfo=UTC)
    assert trigger.get_next_fire_time(first, first.replace(second=31)) == datetime(
        2025, 3, 12, 11, 0, 30, tzinfo=UTC
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_opsbot_dev_with_the_capacity_scenario_opens_the_forecast_incident(
    tmp_path: Path,
) -> None:
    """The whole path a person takes: the scan fires a minute after start; the shipped
    routing holds warnings two minutes, so the thread shows about three minutes in."""
    page_port, bot_port = free_port(), free_port()
    log_path = tmp_path / "dev.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "dev",
                "--port",
                str(page_port),
                "--bot-port",
                str(bot_port),
                "--scenario",
                "capacity",
            ],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            texts: list[str] = []
            deadline = time.monotonic() + 480
            while time.monotonic() < deadline and not texts:
                time.sleep(2)
                try:
                    state = httpx.get(f"http://127.0.0.1:{page_port}/ui/state", timeout=5).json()
                except (httpx.TransportError, ValueError):
                    continue
                channel = next(
                    (c["id"] for c in state["channels"] if c["name"] == "incidents"), None
                )
                texts = [
                    json.dumps(m)
                    for m in state["messages"].get(channel, [])
                    if m.get("bot_id") and "postgres-data runs out in" in json.dumps(m)
                ]
            assert texts, log_path.read_text()[-3000:]
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
