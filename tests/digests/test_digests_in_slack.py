"""Every digest, built by the running bot from real data and posted in the local Slack
workspace with its charts uploaded (files upload v2) into the digest's thread.

Incidents come through the real pipeline (Alertmanager webhooks to the bot, one resolved
by Alertmanager, one by hand); model calls through the agent's cost ledger; logs from
osmem; traces from the Jaeger stand-in; GitHub issues into a GitHub API stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.digests import DIGESTS, Digests
from bot.digests.models import DigestRun
from bot.digests.output import DigestOutput, DigestRequest
from bot.digests.schedule import schedule_digests
from bot.scheduler import Scheduler
from bot.settings import load_settings
from bot.store.incidents import Incident
from sandbox.procs import OpenSearchProcess
from sandbox.serve import ServerThread
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot, workspace
from tests.digests.backends import LOG_INDEX
from tests.digests.github_standin import GitHubState, create_github_app
from tests.digests.shop_history import make_incidents, record_model_calls, wait_for

TOKEN = "ghp_digest_token_0123456789"
REPO = "shop/checkout"
CHANNEL = "ops-digest"
PNG = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ShopWorld:
    slack: SlackWorkspace
    bot: RunningBot
    github: GitHubState
    incidents: dict[str, int]


@pytest.fixture(scope="module")
def world(
    shop_log_store: OpenSearchProcess,
    shop_jaeger: ServerThread,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ShopWorld]:
    home = tmp_path_factory.mktemp("digests")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("OPSBOT_", "SLACK_", "ANTHROPIC_")):
                patch.delenv(name)
        patch.chdir(home)
        github = GitHubState(token=TOKEN, repos={REPO})
        with ServerThread(create_github_app(github)) as github_server:
            slack = workspace(post_message_rate=0)
            try:
                with running_bot(
                    slack,
                    database_url=f"sqlite:///{home / 'bot.db'}",
                    tools={
                        "logs_url": shop_log_store.url,
                        "logs_flavor": "opensearch",
                        "logs_index": LOG_INDEX,
                        "jaeger_url": shop_jaeger.url,
                    },
                    digest={
                        "github_token": TOKEN,
                        "github_repo": REPO,
                        "github_api_url": github_server.url,
                        "trace_services": "frontend",
                    },
                ) as bot:
                    ids = make_incidents(bot)
                    record_model_calls(bot, ids)
                    yield ShopWorld(slack, bot, github, ids)
            finally:
                slack.close()


def posted(world: ShopWorld, run: DigestRun) -> tuple[str, list[dict[str, Any]]]:
    """The digest message's text (blocks as JSON) and the files uploaded into its thread."""
    assert run.status == "posted", run.error
    message = next(m for m in world.slack.messages(CHANNEL) if m["ts"] == run.ts)
    thread = world.slack.thread(CHANNEL, run.ts or "")
    files = [f for reply in thread for f in reply.get("files", [])]
    for file in files:
        data = world.slack.state.files[file["id"]].data
        assert data is not None
        assert data.startswith(PNG)
        assert file["mimetype"] == "image/png"
    assert sorted(f["id"] for f in files) == sorted(run.files)
    return json.dumps(message["blocks"], ensure_ascii=False), files


def test_the_daily_incident_digest_counts_mttr_noise_and_pending_approvals(
    world: ShopWorld,
) -> None:
    run = world.bot.bot.runtime.digests.run("incidents")
    blocks, _files = posted(world, run)
    assert "Daily incident digest" in blocks
    assert "*Opened*\\n3" in blocks
    assert "*Resolved*\\n2" in blocks
    assert "60 min / 60 min" in blocks  # MTTR mean / median of 40 and 80 minutes
    assert "50% (1 of 2" in blocks  # checkout cleared by itself, cart resolved by hand
    assert "40%: 5 alerts → 3 incidents" in blocks
    assert "`HighErrorRate`: 2 alerts" in blocks
    assert "40%: 5 alerts → 3 incidents" in blocks


def test_the_incident_digest_lists_each_incident_and_each_pending_approval_with_links(
    world: ShopWorld,
) -> None:
    run = world.bot.bot.runtime.digests.run("incidents")
    blocks, files = posted(world, run)
    listed = blocks.split("*Incidents (")[1].split("*Noisiest alerts*")[0]
    # payments (open) first; checkout (40 min) and cart (80 min) resolved today; search was
    # three days ago and is not in this window.
    assert listed.startswith("3)*")
    assert listed.index("payments") < listed.index("checkout")
    assert "resolved after 40 min" in listed
    assert "resolved after 80 min" in listed
    assert "firing for" in listed
    assert "`restart_deployment` waiting for approval" in listed
    assert "search" not in listed
    with world.bot.bot.deps.db.session() as session:
        threads = [
            i.thread_ts
            for i in session.exec(select(Incident)).all()
            if i.service != "search" and i.thread_ts
        ]
    assert threads
    assert listed.count("|thread>") == len(threads)
    pending = blocks.split("*Pending approvals (1)*")[1]
    assert "`restart_deployment` on `deployment/prod/payments`" in pending
    assert "no expiry" in pending or "expires" in pending
    assert {f["name"] for f in files} == {"incidents-per-day.png", "mttr-trend.png"}


def test_the_hourly_log_digest_shows_the_spike_the_new_template_and_top_errors(
    world: ShopWorld, digest_end: datetime
) -> None:
    run = world.bot.bot.runtime.digests.run(
        "logs", digest_end + timedelta(minutes=5), trigger="schedule"
    )
    blocks, files = posted(world, run)
    assert "Hourly log digest" in blocks
    assert "connection refused to payments-db:&lt;*&gt; after &lt;*&gt; retries" in blocks
    assert "jumped to 182 lines (91x its usual 2.0" in blocks
    assert "retrying charge for order ord-&lt;*&gt;" in blocks
    assert "pattern engine" in blocks
    assert [f["name"] for f in files] == ["top-templates.png"]
    thread = world.slack.thread(CHANNEL, run.ts or "")
    assert any("Example lines" in reply.get("text", "") for reply in thread)


def test_the_weekly_performance_report_has_the_graph_findings_and_filed_issues(
    world: ShopWorld,
) -> None:
    run = world.bot.bot.runtime.digests.run("performance")
    blocks, files = posted(world, run)
    assert "Weekly performance report" in blocks
    assert "Slow dependency: checkout → payments" in blocks
    assert "N+1: inventory → postgres" in blocks
    assert "confidence" in blocks
    assert {f["name"] for f in files} == {"service-dependencies.png", "slowest-operations.png"}
    filed = world.github.issues[REPO]
    assert len(filed) == 3
    thread = world.slack.thread(CHANNEL, run.ts or "")
    assert any(filed[0]["html_url"] in reply.get("text", "") for reply in thread)


def test_the_daily_ai_cost_report_has_spend_by_model_cache_hits_and_budget(
    world: ShopWorld,
) -> None:
    run = world.bot.bot.runtime.digests.run("cost-daily")
    blocks, files = posted(world, run)
    # sonnet: 12k in, 4k cache write, 20k cache read, 1.5k out at 3/15; sonnet 0.039; haiku
    spend = 0.0795 + 0.039 + (3_000 * 1 + 400 * 5) / 1e6
    assert f"${spend:,.2f}" in blocks
    assert "`claude-sonnet-4-5`: $0.12 · 2 calls" in blocks
    assert "`claude-haiku-4-5`: $0.01 · 1 call ·" in blocks
    assert "`incident`: $0.12" in blocks
    assert "43%" in blocks  # 20k cache reads of 47k prompt tokens
    assert "$0.06 (2 incidents)" in blocks
    assert "of $20.00" in blocks
    assert "Projected month end" in blocks
    assert [f["name"] for f in files] == ["spend-by-model.png"]


def test_the_monthly_ai_cost_report_covers_the_month_just_ended(world: ShopWorld) -> None:
    now = datetime.now(UTC) - timedelta(hours=6)
    next_month = (now.replace(day=28) + timedelta(days=4)).replace(day=1, hour=10, minute=0)
    run = world.bot.bot.runtime.digests.run("cost-monthly", next_month)
    blocks, files = posted(world, run)
    assert "Monthly AI cost report" in blocks
    assert f"{now:%b %Y}" in blocks
    assert "Spend" in blocks
    assert "Cost per incident" in blocks
    assert [f["name"] for f in files] == ["spend-by-model.png"]


def test_the_monthly_roi_report_applies_the_formula_to_this_months_numbers(
    world: ShopWorld,
) -> None:
    now = datetime.now(UTC) - timedelta(hours=6)
    next_month = (now.replace(day=28) + timedelta(days=4)).replace(day=1, hour=10, minute=30)
    run = world.bot.bot.runtime.digests.run("roi", next_month)
    blocks, files = posted(world, run)
    assert "Monthly ROI report" in blocks
    assert "Engineer time saved" in blocks
    assert "baseline 120 min" in blocks
    assert [f["name"] for f in files] == ["roi.png"]
    with world.bot.bot.deps.db.session() as session:
        runs = session.exec(select(DigestRun).where(DigestRun.digest == "roi")).all()
    assert [r.status for r in runs] == ["posted"]


def test_a_digest_whose_follow_up_fails_is_still_recorded_as_posted(world: ShopWorld) -> None:
    runtime = world.bot.bot.runtime
    daily = runtime.digests.builders["cost-daily"]
    threads: list[tuple[str, str]] = []

    def with_failing_follow_up(request: DigestRequest) -> DigestOutput:
        output = daily(request)

        def follow_up(channel: str, ts: str) -> None:
            threads.append((channel, ts))
            raise RuntimeError("the follow-up broke")

        output.follow_up = follow_up
        return output

    digests = Digests(
        runtime.deps.db,
        runtime.client,
        runtime.digests.settings,
        runtime.digests.capacity,
        {**runtime.digests.builders, "cost-daily": with_failing_follow_up},
    )
    run = digests.run("cost-daily")
    blocks, _ = posted(world, run)
    assert "Daily AI cost report" in blocks
    assert threads == [(run.channel, run.ts)]  # called with the posted message's thread
    with runtime.deps.db.session() as session:
        stored = session.get(DigestRun, run.id)
    assert stored is not None
    assert (stored.status, stored.error) == ("posted", None)


def test_a_digest_posts_on_its_crontab_schedule_through_the_database_job_store(
    world: ShopWorld,
) -> None:
    runtime = world.bot.bot.runtime
    due = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    off = {spec.schedule_field: "" for spec in DIGESTS.values()}
    settings = load_settings(
        digest={**off, "cost_daily_schedule": f"{due.second} * * * * *"},
        capacity={"digest_schedule": ""},
    )
    replica = Digests(
        runtime.deps.db,
        runtime.client,
        settings.digest,
        settings.capacity,
        runtime.digests.builders,
    )
    scheduler = Scheduler(runtime.deps.db)
    assert schedule_digests(scheduler, replica) == ["digest:cost-daily"]
    scheduler.start()
    try:
        digest_jobs = {job for job in scheduler.cron_jobs() if job.startswith("digest:")}
        assert digest_jobs == {"digest:cost-daily"}  # the others were turned off

        def scheduled_run() -> DigestRun | None:
            with runtime.deps.db.session() as session:
                return session.exec(
                    select(DigestRun).where(
                        DigestRun.digest == "cost-daily", DigestRun.trigger == "schedule"
                    )
                ).first()

        run = wait_for(scheduled_run, timeout=20)
        wait_for(lambda: (found := scheduled_run()) is not None and found.status != "running")
    finally:
        scheduler.stop()
    done = scheduled_run()
    assert done is not None
    assert done.scheduled_for is not None
    assert done.scheduled_for.replace(tzinfo=UTC) == due
    blocks, _ = posted(world, done)
    assert "Daily AI cost report" in blocks
    assert run.id == done.id


def test_opsbot_digest_now_runs_a_digest_from_slack(world: ShopWorld) -> None:
    slack = world.slack
    slack.slash_command("U0ALICE", CHANNEL, "/opsbot", "digest incidents now")
    reply = slack.wait_for(
        lambda: [e for e in slack.ephemerals("U0ALICE") if "incidents digest" in e["text"]],
        timeout=15,
    )[0]
    assert reply["text"] == f"Posted the incidents digest in <#{slack.channel_id(CHANNEL)}>."
    assert "Daily incident digest" in json.dumps(slack.messages(CHANNEL)[-1]["blocks"])
    slack.slash_command("U0ALICE", CHANNEL, "/opsbot", "digest weekly now")
    unknown = slack.wait_for(
        lambda: [e for e in slack.ephemerals("U0ALICE") if "no digest 'weekly'" in e["text"]],
        timeout=15,
    )[0]
    assert "performance" in unknown["text"]


def test_opsbot_digest_run_posts_from_the_command_line(world: ShopWorld) -> None:
    settings = world.bot.bot.deps.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPSBOT_", "SLACK_"))},
        "SLACK_BOT_TOKEN": world.slack.config.bot_token,
        "SLACK_API_URL": world.slack.api_url,
        "OPSBOT_DATABASE_URL": settings.database.url,
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
    }
    before = len(world.slack.messages(CHANNEL))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "digest", "run", "cost-daily"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "cost-daily: posted in #ops-digest" in done.stdout
    assert "C0OPSDIGEST" not in done.stdout
    assert "Daily AI cost report" in json.dumps(world.slack.messages(CHANNEL)[before:])
    listed = subprocess.run(
        [sys.executable, "-m", "bot", "digest", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "cost-daily" in listed.stdout
    assert "posted" in listed.stdout
    assert "next run" in listed.stdout
    assert "#ops-digest" in listed.stdout


def test_opsbot_digest_run_print_renders_without_posting(world: ShopWorld, tmp_path: Path) -> None:
    settings = world.bot.bot.deps.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPSBOT_", "SLACK_"))},
        "OPSBOT_DATABASE_URL": settings.database.url,
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
    }

    def runs() -> int:
        with world.bot.bot.deps.db.session() as session:
            return len(session.exec(select(DigestRun)).all())

    before = runs()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "digest",
            "run",
            "incidents",
            "--print",
            "--out",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Daily incident digest" in done.stdout
    assert "*Incidents (" in done.stdout
    charts = [line.split("chart: ", 1)[1] for line in done.stdout.splitlines() if "chart: " in line]
    assert charts
    assert all(Path(path).read_bytes().startswith(PNG) for path in charts)
    assert runs() == before  # nothing was run for posting


def test_opsbot_digest_list_in_slack_shows_each_channel_and_next_run(world: ShopWorld) -> None:
    slack = world.slack
    slack.slash_command("U0ALICE", CHANNEL, "/opsbot", "digest list")
    reply = slack.wait_for(
        lambda: [e for e in slack.ephemerals("U0ALICE") if "*Digests*" in e["text"]],
        timeout=15,
    )[0]
    for name in DIGESTS:
        assert f"`{name}` in #" in reply["text"]
    assert "next <!date^" in reply["text"]
