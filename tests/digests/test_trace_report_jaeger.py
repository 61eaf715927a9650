"""Trace analysis through the Jaeger query API stand-in, and filing findings on GitHub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.analysis.traces.report import (
    GitHubIssues,
    SlowSelection,
    TraceReport,
    file_issues,
    trace_report,
)
from bot.digests.charts import dependency_graph
from bot.errors import DependencyDown
from sandbox.serve import ServerThread
from tests.digests.github_standin import GitHubState, create_github_app
from tools.config import JaegerConfig
from tools.timewindow import TimeWindow
from tools.traces.api import JaegerApi

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghp_test_token_0123456789"
REPO = "shop/checkout"


@pytest.fixture(scope="module")
def report(shop_jaeger: ServerThread) -> TraceReport:
    api = JaegerApi(JaegerConfig(url=shop_jaeger.url))
    now = datetime.now(UTC)
    try:
        return trace_report(api, ["frontend"], TimeWindow(now - timedelta(days=2), now))
    finally:
        api.close()


@pytest.fixture
def github() -> Iterator[tuple[GitHubState, ServerThread]]:
    state = GitHubState(token=TOKEN, repos={REPO})
    with ServerThread(create_github_app(state)) as server:
        yield state, server


def test_the_analyzer_finds_the_slow_dependency_and_the_n_plus_one_with_evidence(
    report: TraceReport, shop_jaeger: ServerThread
) -> None:
    kinds = {r.kind: r for r in report.recommendations}
    slow = kinds["slow_dependency"]
    assert slow.service == "payments"
    assert "checkout → payments" in slow.title
    assert slow.impact_ms > 1000
    assert slow.confidence >= 0.8
    n_plus_one = kinds["n_plus_one"]
    assert n_plus_one.title.startswith("N+1: inventory → postgres")
    assert "40 sequential" in n_plus_one.title
    assert n_plus_one.confidence >= 0.8
    api = JaegerApi(JaegerConfig(url=shop_jaeger.url))
    try:
        for trace_id in n_plus_one.evidence:
            spans = api.get_trace(trace_id)["spans"]
            stock = [s for s in spans if s["operationName"] == "SELECT stock"]
            assert len(stock) == 40
        for trace_id in slow.evidence:
            assert max(s["duration"] for s in api.get_trace(trace_id)["spans"]) > 1_000_000
    finally:
        api.close()
    assert "errors" in kinds
    assert "card processor did not answer" in kinds["errors"].detail


def test_the_dependency_graph_has_calls_error_rate_and_p95_per_edge(report: TraceReport) -> None:
    edges = {(e.caller, e.callee): e for e in report.edges}
    assert {("frontend", "checkout"), ("checkout", "inventory"), ("checkout", "payments")} <= set(
        edges
    )
    assert ("inventory", "postgres") in edges
    payments = edges[("checkout", "payments")]
    assert payments.calls == report.trace_count
    assert payments.errors == 3
    assert payments.p95_ms > 1000
    assert edges[("inventory", "postgres")].calls > 8 * 40
    png = dependency_graph(report.edges, title="shop")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_the_top_findings_are_filed_as_github_issues_once(
    report: TraceReport, github: tuple[GitHubState, ServerThread]
) -> None:
    state, server = github
    client = GitHubIssues(TOKEN, REPO, server.url)
    try:
        urls = file_issues(report, client, limit=2, jaeger_ui="http://jaeger:16686")
        again = file_issues(report, client, limit=2)
    finally:
        client.close()
    assert urls == [f"https://github.com/{REPO}/issues/1", f"https://github.com/{REPO}/issues/2"]
    assert again == []  # the same findings are already open
    filed = state.issues[REPO]
    assert filed[0]["title"] == report.recommendations[0].subject
    assert report.recommendations[0].title in filed[0]["body"]
    assert {label["name"] for label in filed[0]["labels"]} == {"opsbot", "performance"}
    assert report.recommendations[0].evidence[0] in filed[0]["body"]
    assert "http://jaeger:16686/trace/" in filed[0]["body"]
    post = next(r for r in state.requests if r["method"] == "POST")
    assert post["headers"]["accept"] == "application/vnd.github+json"
    assert post["headers"]["x-github-api-version"] == "2022-11-28"


def test_github_refusing_the_token_is_a_dependency_failure_naming_why(
    report: TraceReport, github: tuple[GitHubState, ServerThread]
) -> None:
    state, server = github
    client = GitHubIssues("ghp_wrong", REPO, server.url)
    with pytest.raises(DependencyDown, match="401: Bad credentials"):
        file_issues(report, client)
    client.close()
    assert state.issues == {}


def test_opsbot_traces_analyze_runs_against_jaeger_as_a_command(
    shop_jaeger: ServerThread, tmp_path: Path
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPSBOT_", "SLACK_"))},
        "OPSBOT_JAEGER_URL": shop_jaeger.url,
        "PYTHONPATH": str(ROOT),
    }
    command = ["traces", "analyze", "--service", "frontend", "--since", "48h", "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    kinds = {r["kind"] for r in output["recommendations"]}
    assert {"slow_dependency", "n_plus_one"} <= kinds
    assert output["filed"] == []


def test_slow_traces_can_be_chosen_by_a_duration_or_as_the_slowest_per_operation(
    shop_jaeger: ServerThread,
) -> None:
    api = JaegerApi(JaegerConfig(url=shop_jaeger.url))
    now = datetime.now(UTC)
    window = TimeWindow(now - timedelta(days=2), now)
    try:
        over = trace_report(
            api, ["payments"], window, selection=SlowSelection(min_duration_us=1_000_000)
        )
        per_operation = trace_report(
            api, ["payments"], window, selection=SlowSelection(per_operation=2)
        )
        operations = api.operations("payments")
    finally:
        api.close()
    assert len(over.slow_trace_ids) == 6  # the traces with the slow payments dependency
    assert over.slow_threshold_ms > 1000
    assert over.recommendations[0].kind == "slow_dependency"
    assert 2 <= len(per_operation.slow_trace_ids) <= 2 * len(operations)
    assert set(per_operation.slow_trace_ids) & set(over.slow_trace_ids)
