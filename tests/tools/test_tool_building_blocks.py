"""Pure pieces the tools are built from: times, steps, trends, budgets, links, trace trees."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from tools.base import ErrorKind, ToolFailure
from tools.budget import fit_items, format_number, shorten
from tools.config import LogSearchConfig, PrometheusConfig
from tools.logs.client import url_with_port
from tools.logs.dsl import LogFilter, field_value, level_variants
from tools.logs.links import discover_url, rison_string
from tools.metrics.series import summarise, trend_of
from tools.timewindow import (
    TimeWindow,
    TimeWindowArgs,
    format_duration,
    nice_interval,
    parse_duration,
    parse_instant,
)
from tools.traces.summary import span_tree, summarise_trace

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FIXTURE = (
    Path(__file__).resolve().parents[2].parent / "shared/fixtures/jaeger/ui-trace-example.json"
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), ("1w", 604800), ("500ms", 0.5)],
)
def test_durations_are_read_in_prometheus_notation(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["soon", "15", "-5m", "0s", "1h 2x"])
def test_malformed_durations_are_refused_with_examples(text: str) -> None:
    with pytest.raises(ValueError, match=r"30s|zero"):
        parse_duration(text)


def test_durations_are_written_largest_unit_first() -> None:
    assert format_duration(timedelta(days=90)) == "90d"
    assert format_duration(timedelta(hours=1, minutes=30)) == "1h30m"
    assert format_duration(timedelta(seconds=90)) == "1m30s"


def test_instants_accept_now_relative_rfc3339_and_unix_seconds() -> None:
    assert parse_instant("now", NOW) == NOW
    assert parse_instant("now-15m", NOW) == NOW - timedelta(minutes=15)
    assert parse_instant("2024-05-01T10:00:00Z", NOW) == NOW - timedelta(hours=2)
    assert parse_instant("2024-05-01T10:00:00", NOW) == NOW - timedelta(hours=2)
    assert parse_instant(str(NOW.timestamp()), NOW) == NOW


def test_window_defaults_to_lookback_before_now_and_refuses_reversed_bounds() -> None:
    assert TimeWindowArgs(lookback="2h").window(NOW) == TimeWindow(NOW - timedelta(hours=2), NOW)
    with pytest.raises(ToolFailure) as caught:
        TimeWindowArgs(start="now", end="now-1h").window(NOW)
    assert caught.value.kind is ErrorKind.INVALID_INPUT


def test_nice_interval_rounds_up_to_a_readable_step() -> None:
    fifteen = timedelta(seconds=15)
    assert nice_interval(timedelta(hours=1), 250, fifteen) == fifteen
    assert nice_interval(timedelta(hours=4), 250, fifteen) == timedelta(minutes=1)
    assert nice_interval(timedelta(days=7), 250, fifteen) == timedelta(hours=1)
    assert nice_interval(timedelta(days=3650), 250, fifteen) == timedelta(seconds=1261440)


def test_trend_compares_the_last_quarter_with_the_first() -> None:
    assert trend_of([1, 1, 1, 1, 5, 5, 5, 5]) == "rising"
    assert trend_of([5, 5, 5, 5, 1, 1, 1, 1]) == "falling"
    assert trend_of([3, 3.1, 2.9, 3, 3, 3.05, 2.95, 3]) == "flat"
    assert trend_of([1, 2]) == "unknown"


def test_series_statistics_skip_nan_and_find_the_largest_jump() -> None:
    samples = [[0, "1"], [60, "1"], [120, "NaN"], [180, "9"], [240, "+Inf"], [300, "9"]]
    summary = summarise({"__name__": "x"}, samples)
    assert (summary.min, summary.max, summary.last, summary.non_finite) == (1, 9, 9, 2)
    assert summary.largest_change == 8
    assert summary.largest_change_at == datetime.fromtimestamp(180, UTC)


def test_fit_items_keeps_whole_items_and_counts_the_rest() -> None:
    items = [f"- item {n:02d} " + "x" * 40 for n in range(100)]
    text, left_out = fit_items("header", items, 600, lambda n: f"... {n} more")
    assert len(text) <= 600
    assert text.endswith(f"... {left_out} more")
    kept = text.splitlines()[1:-1]
    assert kept == items[: len(kept)]
    assert len(kept) + left_out == 100


def test_shorten_and_format_number_stay_readable() -> None:
    assert shorten("a   b\nc", 10) == "a b c"
    assert shorten("x" * 20, 10) == "x" * 9 + "…"
    assert [format_number(v) for v in (3, 0.123456, 25300, 4.2e6, None)] == [
        "3",
        "0.123",
        "25.3k",
        "4.2M",
        "n/a",
    ]


def test_level_variants_cover_aliases_and_cases() -> None:
    assert level_variants(["warn"]) == ["warn", "WARN", "Warn", "warning", "WARNING", "Warning"]


def test_fields_are_read_flat_or_nested() -> None:
    assert field_value({"service": {"name": "a"}}, "service.name") == "a"
    assert field_value({"service.name": "b"}, "service.name") == "b"
    assert field_value({"service": "c"}, "service.name") is None


def test_kibana_link_escapes_quotes_in_rison_and_kql() -> None:
    assert rison_string("it's!") == "'it!'s!!'"
    config = LogSearchConfig(url="http://es", kibana_url="https://kb")
    window = TimeWindow(NOW - timedelta(hours=1), NOW)
    link = discover_url(LogFilter(window, services=("a'b",), text='say "hi"'), config)
    assert link is not None
    decoded = unquote(link)
    assert "from:'2024-05-01T11:00:00Z',to:'2024-05-01T12:00:00Z'" in decoded
    assert 'service.name:("a!\'b")' in decoded
    assert 'message:("say" and "\\"hi\\"")' in decoded


def test_trace_tree_survives_duplicate_ids_and_foreign_references() -> None:
    trace = json.loads(FIXTURE.read_text())
    tree = span_tree(trace)
    assert len(tree) == 5
    by_id = {(s.span_id, s.operation): s for s in tree}
    reference_test = by_id[("4", "reference-test")]
    assert reference_test.parent_id == "2"  # the foreign CHILD_OF (trace ff) is skipped
    assert by_id[("5", "preserveParentID-test")].depth == 2
    summary = summarise_trace(trace)
    assert summary.error_count == 1
    assert summary.errors[0].operation == "some-operation"


def test_self_time_subtracts_overlapping_children_once() -> None:
    def span(
        span_id: str, start: int, duration: int, parent: str | None = None
    ) -> dict[str, object]:
        refs = [{"refType": "CHILD_OF", "traceID": "t", "spanID": parent}] if parent else []
        return {
            "traceID": "t",
            "spanID": span_id,
            "operationName": span_id,
            "references": refs,
            "startTime": start,
            "duration": duration,
            "processID": "p",
        }

    trace = {
        "traceID": "t",
        "spans": [span("root", 0, 1000), span("a", 100, 400, "root"), span("b", 300, 400, "root")],
        "processes": {"p": {"serviceName": "svc"}},
    }
    root = span_tree(trace)[0]
    assert root.self_ms == pytest.approx(0.4)  # children cover 100..700 of 0..1000 µs


def test_configured_urls_must_be_http_and_get_an_explicit_port_for_the_search_client() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        PrometheusConfig(url="prometheus:9090")
    assert PrometheusConfig(url="http://prometheus:9090/").url == "http://prometheus:9090"
    assert url_with_port("https://logs.example.com") == "https://logs.example.com:443"
    assert url_with_port("http://127.0.0.1:9200") == "http://127.0.0.1:9200"
