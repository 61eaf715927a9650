"""The weekly capacity digest, built by the running bot from 28 days of real Prometheus
history and posted in the local Slack workspace with its charts (files upload v2) in the
digest's thread; also from the command line (`opsbot digest run capacity`)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.capacity import summary
from bot.digests.registry import channel_for, digest_spec, schedule_of
from bot.settings import load_settings
from tests.capacity.capacity_slack import (
    DIGEST_CHANNEL,
    Backends,
    CapacityBot,
    capacity_bot,
    minute_now,
    shop_backends,
)

PNG = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    with shop_backends(tmp_path_factory.mktemp("capacity-backends"), minute_now()) as found:
        yield found


@pytest.fixture(scope="module")
def world(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CapacityBot]:
    now = minute_now()
    with capacity_bot(tmp_path_factory.mktemp("capacity-digest"), backends, now) as world:
        yield world


def texts_in(value: object) -> list[str]:
    """Every text a person reads in the blocks."""
    if isinstance(value, dict):
        own = [value["text"]] if isinstance(value.get("text"), str) else []
        return own + [t for item in value.values() for t in texts_in(item)]
    if isinstance(value, list):
        return [t for item in value for t in texts_in(item)]
    return []


def test_the_capacity_digest_posts_forecasts_savings_and_charts_in_slack(
    world: CapacityBot,
) -> None:
    run = world.bot.bot.runtime.digests.run("capacity", world.now)
    assert run.status == "posted", run.error
    message = next(m for m in world.slack.messages(DIGEST_CHANNEL) if m["ts"] == run.ts)
    blocks = json.dumps(message["blocks"], ensure_ascii=False)
    report = world.report()

    assert "Weekly capacity and cost digest" in blocks
    runs_out = blocks[blocks.index("*Runs out soon*") :]
    first = re.search(r"\*(\S+) \(volume\)\*: full in \*~([\d.]+) days\*", runs_out)
    assert first is not None
    assert first.group(1) == "prod/postgres-data"  # the orders database fills first
    assert 4.0 <= float(first.group(2)) <= 6.0  # the story: ~5 days
    assert "capacity 50.0 GiB" in runs_out
    assert "monitoring/prometheus-data" not in blocks  # flat: never runs out

    top = summary.savings(report)[0]
    assert (top.usage.namespace, top.usage.workload) == ("prod", "payments")
    assert f"*{summary.money(top.saving_usd_month)}/month*" in blocks
    total = sum(r.saving_usd_month for r in summary.savings(report))
    assert f"Rightsizing total: *{summary.money(total)}/month*" in blocks
    # The headline figure is labelled with what it adds up.
    assert f"*Possible savings*\\n{summary.savings_text(report)}" in blocks
    idle = blocks[blocks.index("*Idle and left behind*") :]
    assert "staging/legacy-report (idle workload since" in idle
    assert "staging/old-reports-data (unattached volume" in idle
    assert "prod/" not in idle
    # One verdict per workload: legacy-report is idle, so no forecast or rightsizing of it.
    assert [e for e in report.exhaustions if e.resource.name == "legacy-report"] == []
    assert [r for r in report.rightsizing if r.usage.workload == "legacy-report"] == []
    # old-api, scaled to zero for weeks, is not something that "could not be analysed".
    assert "staging/old-api (scaled to zero since" in idle
    assert not [s for s in report.skipped if "old-api" in s]
    words = "\n".join(texts_in(message["blocks"]))
    assert re.findall(r"\b([a-z]{3,})[^\w\n]+\1\b", words, flags=re.IGNORECASE) == [], words

    thread = world.slack.thread(DIGEST_CHANNEL, run.ts or "")
    files = [f for reply in thread for f in reply.get("files", [])]
    assert sorted(f["name"] for f in files) == ["capacity-forecasts.png", "capacity-savings.png"]
    for file in files:
        data = world.slack.state.files[file["id"]].data
        assert data is not None
        assert data.startswith(PNG)
    assert sorted(f["id"] for f in files) == sorted(run.files)


def test_the_capacity_digest_has_its_own_schedule_and_falls_back_to_the_digest_channel() -> None:
    spec = digest_spec("capacity")
    default = load_settings()
    assert schedule_of(spec, default.digest, default.capacity) == "0 8 * * 1"
    assert channel_for(spec, default.digest, default.capacity) == "ops-digest"
    own = load_settings(capacity={"channel": "capacity", "digest_schedule": "0 7 * * 1"})
    assert (
        channel_for(spec, own.digest, own.capacity),
        schedule_of(spec, own.digest, own.capacity),
    ) == ("capacity", "0 7 * * 1")


def test_opsbot_digest_run_capacity_posts_from_the_command_line(
    world: CapacityBot, backends: Backends
) -> None:
    settings = world.bot.bot.deps.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPSBOT_", "SLACK_"))},
        "SLACK_BOT_TOKEN": world.slack.config.bot_token,
        "SLACK_API_URL": world.slack.api_url,
        "OPSBOT_DATABASE_URL": settings.database.url,
        "OPSBOT_PROMETHEUS_URL": backends.prometheus,
        "OPSBOT_KUBECONFIG": str(backends.kubeconfig),
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
    }
    before = len(world.slack.messages(DIGEST_CHANNEL))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "digest", "run", "capacity", "--at", world.now.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "capacity: posted in #ops-digest" in done.stdout  # the channel by name
    assert "2 charts)" in done.stdout
    posted = json.dumps(world.slack.messages(DIGEST_CHANNEL)[before:], ensure_ascii=False)
    assert "Weekly capacity and cost digest" in posted
    assert "prod/postgres-data (volume)" in posted
