"""Log analysis against a real OpenSearch-API server (osmem) loaded with seven hours of logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from bot.analysis.logmine import Level
from bot.analysis.logmine.analysis import LogAnalysis, analyse_logs
from bot.analysis.logmine.memory import LogMinerState, load_miner
from bot.settings import DatabaseSettings
from bot.store.db import Database
from sandbox.procs import OpenSearchProcess
from tests.digests.backends import BASELINE_HOURS, LOG_INDEX, SPIKE
from tools.config import LogSearchConfig
from tools.logs.client import build_search_client
from tools.timewindow import TimeWindow

ROOT = Path(__file__).resolve().parents[2]
SPIKE_TEMPLATE = "connection refused to payments-db:<*> after <*> retries"
RETRY_TEMPLATE = "retrying charge for order ord-<*> after <*> from card processor"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Database]:
    db = Database(DatabaseSettings(url=f"sqlite:///{tmp_path / 'logs.db'}"))
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def search(shop_log_store: OpenSearchProcess) -> Iterator[tuple[Elasticsearch, LogSearchConfig]]:
    config = LogSearchConfig(url=shop_log_store.url, flavor="opensearch", index_pattern=LOG_INDEX)
    client = build_search_client(config)
    yield client, config
    client.close()


def last_hour(end: datetime) -> TimeWindow:
    return TimeWindow(end - timedelta(hours=1), end)


def analyse(
    store: Database,
    search: tuple[Elasticsearch, LogSearchConfig],
    end: datetime,
    phases: list[str] | None = None,
    max_lines: int = 200_000,
) -> LogAnalysis:
    client, config = search
    return analyse_logs(
        store,
        client,
        config,
        last_hour(end),
        baseline_windows=BASELINE_HOURS,
        max_lines=max_lines,
        progress=(lambda phase, _done, _of: phases.append(phase)) if phases is not None else None,
    )


def test_log_analysis_reports_the_spike_the_new_template_and_the_top_errors_per_service(
    store: Database, search: tuple[Elasticsearch, LogSearchConfig], digest_end: datetime
) -> None:
    analysis = analyse(store, search, digest_end)
    assert analysis.baseline_windows == BASELINE_HOURS
    assert analysis.mined == analysis.total > 400
    spike = next(j for j in analysis.findings.rate_jumps if j.template == SPIKE_TEMPLATE)
    assert spike.service == "checkout"
    assert spike.count == 182
    assert spike.baseline_mean == pytest.approx(2.0)
    new = {(t.service, t.template) for t in analysis.findings.new_templates}
    assert ("payments", RETRY_TEMPLATE) in new
    assert ("auth", "authentication failed for user bob") in new
    assert analysis.findings.top_errors["checkout"][0].template == SPIKE_TEMPLATE
    assert analysis.findings.top_errors["cart"][0].template.startswith("pricing answered <*>")


def test_the_sampler_keeps_every_error_and_security_line_and_counts_what_it_drops(
    store: Database, search: tuple[Elasticsearch, LogSearchConfig], digest_end: datetime
) -> None:
    analysis = analyse(store, search, digest_end)
    kept_errors = [s for s in analysis.sampled if s.level is Level.ERROR]
    assert len(kept_errors) == analysis.by_level["ERROR"]
    assert any(s.reason == "security" and "bob" in s.message for s in analysis.sampled)
    dropped_info = sum(levels.get("INFO", 0) for levels in analysis.dropped.values())
    kept_info = sum(1 for s in analysis.sampled if s.level is Level.INFO)
    assert dropped_info > 0
    assert kept_info + dropped_info == analysis.by_level["INFO"]


def test_the_next_analysis_reads_its_baseline_from_the_store_and_keeps_the_miner_state(
    store: Database, search: tuple[Elasticsearch, LogSearchConfig], digest_end: datetime
) -> None:
    first: list[str] = []
    analyse(store, search, digest_end - timedelta(hours=1), first)
    assert set(first) == {f"baseline -{n}" for n in range(1, BASELINE_HOURS + 1)} | {"window"}
    again: list[str] = []
    analysis = analyse(store, search, digest_end, again)
    assert set(again) == {"window"}  # every earlier hour was recorded by the first run
    assert analysis.findings.rate_jumps[0].template == SPIKE_TEMPLATE
    with store.session() as session:
        row = session.get(LogMinerState, LOG_INDEX)
    assert row is not None
    assert row.templates >= 8
    restored = load_miner(store, LOG_INDEX)
    cluster = restored.match(SPIKE.replace("5432", "6432"))
    assert cluster is not None
    assert cluster.template == SPIKE_TEMPLATE


def test_over_the_line_budget_every_error_is_read_and_the_rest_only_counted(
    store: Database, search: tuple[Elasticsearch, LogSearchConfig], digest_end: datetime
) -> None:
    analysis = analyse(store, search, digest_end, max_lines=150)
    assert analysis.skipped > 0
    assert analysis.mined + analysis.skipped == analysis.total
    spike = next(t for t in analysis.counts if t.template == SPIKE_TEMPLATE)
    assert spike.count == 182  # errors are read in full, never estimated
    estimated = sum(c.count for c in analysis.counts)
    assert abs(estimated - analysis.total) <= len(analysis.counts)  # the rest scaled up


def test_opsbot_logs_analyze_runs_against_the_log_store_as_a_command(
    shop_log_store: OpenSearchProcess, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPSBOT_", "SLACK_"))},
        "OPSBOT_LOGS_URL": shop_log_store.url,
        "OPSBOT_LOGS_FLAVOR": "opensearch",
        "OPSBOT_LOGS_INDEX": LOG_INDEX,
        "OPSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "COLUMNS": "200",
    }
    command = ["logs", "analyze", "--since", "2h", "--service", "checkout", "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert SPIKE_TEMPLATE in {j["template"] for j in report["findings"]["rate_jumps"]}
    assert {c["service"] for c in report["counts"]} == {"checkout"}
    assert report["services"] == ["checkout"]
