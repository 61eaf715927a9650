"""The load benches still run end to end (tiny sizes: this proves they work, not how fast)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ is not installed

from bench import alert_storm, ask_load, day_in_minutes

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_alert_storm_bench_through_two_replicas_loses_no_alert_and_opens_one_thread_each() -> None:
    tiny = "--alerts 40 --problems 2 --senders 4 --duration 0 --replicas 2"
    result = alert_storm.main(tiny.split())
    assert result["alerts_lost"] == 0
    assert result["incidents_opened"] == 2
    assert result["duplicate_threads"] == 0
    assert result["database"].startswith("postgresql")
    assert sum(result["webhooks_per_replica"]) == 8  # 40 alerts, 5 a webhook
    assert len(result["peak_rss_mib_per_replica"]) == 2


def test_ask_load_bench_acks_and_answers_every_question_with_both_engines() -> None:
    tiny = "--questions 3 --channels 2 --first-token 0.05 0.1 --timeout 60"
    results = ask_load.main(tiny.split())
    by_engine = {r["engine"]: r for r in results}
    assert set(by_engine) == {"claude", "pattern"}
    for result in results:
        assert result["answered"] == 3
        assert result["errors"] == {"ack": 0, "unanswered": 0, "failed_answers": 0}
        assert result["ack_latency_ms"]["p50"] > 0
    assert by_engine["claude"]["model_calls"] >= 6  # two or three calls a question
    assert by_engine["claude"]["model_calls_failed"] == 0
    assert by_engine["pattern"]["model_calls"] == 0


def test_day_in_minutes_bench_samples_the_bot_through_a_short_day() -> None:
    result = day_in_minutes.main(["--minutes", "0.75", "--sample", "1"])
    assert result["driver_failures"] == []
    assert result["samples"] >= 10
    series = result["series"]
    assert set(series) == set(day_in_minutes.SERIES)
    assert series["rss_mib"]["start"] > 0
    assert series["pg_connections"]["max"] >= 1
    assert series["redis_connections"]["max"] >= 1
    assert result["alert_webhooks"] > 0
    assert result["questions"] > 0
