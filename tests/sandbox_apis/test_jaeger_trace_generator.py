"""Generated traces and trace files: realistic shape, injected patterns, loading layouts."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.jaeger import (
    ErrorResponses,
    NPlusOneQueries,
    SequentialCalls,
    SlowDependency,
    TraceDataError,
    TraceStore,
    generate_traces,
    load_traces,
    rebase_traces,
    write_traces,
)

END_US = 1_750_000_000_000_000


def tags(span: dict[str, Any]) -> dict[str, Any]:
    return {tag["key"]: tag["value"] for tag in span["tags"]}


def service(trace: dict[str, Any], span: dict[str, Any]) -> str:
    return str(trace["processes"][span["processID"]]["serviceName"])


def by_id(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {span["spanID"]: span for span in trace["spans"]}


def parent(trace: dict[str, Any], span: dict[str, Any]) -> dict[str, Any] | None:
    refs = span["references"]
    return by_id(trace)[refs[0]["spanID"]] if refs else None


def test_same_seed_and_end_give_identical_traces_and_another_seed_does_not() -> None:
    first = generate_traces(count=5, seed=11, end_us=END_US, patterns=[ErrorResponses(ratio=0.5)])
    again = generate_traces(count=5, seed=11, end_us=END_US, patterns=[ErrorResponses(ratio=0.5)])
    other = generate_traces(count=5, seed=12, end_us=END_US, patterns=[ErrorResponses(ratio=0.5)])
    assert json.dumps(first) == json.dumps(again)
    assert first != other


def test_a_trace_is_a_well_formed_call_tree_of_four_services() -> None:
    trace = generate_traces(count=1, seed=5, end_us=END_US)[0]
    assert len(trace["traceID"]) == 32
    assert {service(trace, span) for span in trace["spans"]} == {
        "frontend",
        "checkout",
        "inventory",
        "payments",
    }
    roots = [span for span in trace["spans"] if not span["references"]]
    assert [root["operationName"] for root in roots] == ["POST /api/checkout"]
    for span in trace["spans"]:
        above = parent(trace, span)
        if above is not None:
            assert span["references"][0]["refType"] == "CHILD_OF"
            assert above["startTime"] <= span["startTime"]
            assert span["startTime"] + span["duration"] <= above["startTime"] + above["duration"]
    for process in trace["processes"].values():
        assert [tag["key"] for tag in process["tags"]] == ["hostname", "ip", "jaeger.version"]


def test_spans_carry_http_and_database_tags() -> None:
    trace = generate_traces(count=1, seed=5, end_us=END_US)[0]
    client_call = next(tags(s) for s in trace["spans"] if tags(s).get("peer.service") == "payments")
    assert client_call["span.kind"] == "client"
    assert client_call["http.method"] == "POST"
    assert client_call["http.url"] == "http://payments:8080/charge"
    assert client_call["http.status_code"] == 200
    query = next(tags(s) for s in trace["spans"] if "db.statement" in tags(s))
    assert query["db.system"] == "postgresql"
    assert query["peer.service"] == "postgres"
    typed = {tag["key"]: tag["type"] for s in trace["spans"] for tag in s["tags"]}
    assert typed["http.status_code"] == "int64"
    assert typed["span.kind"] == "string"


def test_n_plus_one_repeats_one_statement_fifty_times_in_sequence_under_one_parent() -> None:
    trace = generate_traces(count=1, seed=5, end_us=END_US, patterns=[NPlusOneQueries()])[0]
    repeated = [
        s
        for s in trace["spans"]
        if tags(s).get("db.statement") == "SELECT quantity FROM stock WHERE sku = $1"
    ]
    assert len(repeated) == 50
    assert len({s["references"][0]["spanID"] for s in repeated}) == 1
    ordered = sorted(repeated, key=lambda s: s["startTime"])
    for before, after in itertools.pairwise(ordered):
        assert before["startTime"] + before["duration"] <= after["startTime"]


def _downstream_calls(trace: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(
        (
            s
            for s in trace["spans"]
            if service(trace, s) == "checkout"
            and tags(s).get("peer.service") in ("inventory", "payments")
        ),
        key=lambda s: s["startTime"],
    )


def test_checkout_calls_run_concurrently_unless_made_sequential() -> None:
    concurrent = _downstream_calls(generate_traces(count=1, seed=5, end_us=END_US)[0])
    first, second = concurrent
    assert second["startTime"] < first["startTime"] + first["duration"]
    trace = generate_traces(count=1, seed=5, end_us=END_US, patterns=[SequentialCalls()])[0]
    first, second = _downstream_calls(trace)
    assert first["startTime"] + first["duration"] <= second["startTime"]


def test_slow_dependency_stretches_the_dependency_and_everything_above_it() -> None:
    trace = generate_traces(
        count=1, seed=5, end_us=END_US, patterns=[SlowDependency(extra_ms=900)]
    )[0]
    charge = next(s for s in trace["spans"] if s["operationName"] == "POST /charge")
    assert charge["duration"] > 800_000
    root = next(s for s in trace["spans"] if not s["references"])
    assert root["duration"] > charge["duration"]


def test_errors_carry_status_tags_and_an_error_log() -> None:
    trace = generate_traces(count=1, seed=5, end_us=END_US, patterns=[ErrorResponses()])[0]
    charge = next(s for s in trace["spans"] if s["operationName"] == "POST /charge")
    assert tags(charge)["http.status_code"] == 500
    assert tags(charge)["error"] is True
    assert tags(charge)["otel.status_code"] == "ERROR"
    (log,) = charge["logs"]
    assert {f["key"]: f["value"] for f in log["fields"]} == {
        "event": "error",
        "error.object": "CardProcessorTimeout",
        "message": "card processor did not answer within 2000ms",
    }
    root = next(s for s in trace["spans"] if not s["references"])
    assert tags(root)["http.status_code"] == 502


def test_ratio_applies_a_pattern_to_a_share_of_traces() -> None:
    traces = generate_traces(count=40, seed=3, end_us=END_US, patterns=[ErrorResponses(ratio=0.25)])
    failing = sum(any(tags(s).get("error") for s in t["spans"]) for t in traces)
    assert 3 <= failing <= 20


def test_traces_load_from_api_answers_single_traces_jsonl_and_folders(tmp_path: Path) -> None:
    traces = generate_traces(count=3, seed=1, end_us=END_US)
    write_traces(tmp_path / "answer.json", traces[:1])
    (tmp_path / "single.json").write_text(json.dumps(traces[1]))
    nested = tmp_path / "more"
    nested.mkdir()
    (nested / "lines.jsonl").write_text(json.dumps(traces[2]) + "\n\n")
    assert load_traces(tmp_path / "answer.json") == traces[:1]
    assert load_traces(nested / "lines.jsonl") == traces[2:]
    assert load_traces(tmp_path) == [traces[0], traces[2], traces[1]]


def test_bad_trace_files_are_refused_with_the_file_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [{"spans": []}]}')
    with pytest.raises(TraceDataError, match="traceID"):
        TraceStore(load_traces(broken))
    (tmp_path / "text.json").write_text("not json")
    with pytest.raises(TraceDataError, match=r"text\.json"):
        load_traces(tmp_path / "text.json")


def test_rebase_moves_every_timestamp_by_one_offset() -> None:
    trace = generate_traces(count=1, seed=5, end_us=END_US, patterns=[ErrorResponses()])[0]
    (moved,) = rebase_traces([trace], end_us=END_US + 1_000_000)
    latest_end = max(s["startTime"] + s["duration"] for s in moved["spans"])
    assert latest_end == END_US + 1_000_000
    shift = moved["spans"][0]["startTime"] - trace["spans"][0]["startTime"]
    old_log = next(s["logs"][0] for s in trace["spans"] if s["logs"])
    new_log = next(s["logs"][0] for s in moved["spans"] if s["logs"])
    assert new_log["timestamp"] - old_log["timestamp"] == shift


def test_spans_of_one_trace_from_two_files_are_merged() -> None:
    trace = generate_traces(count=1, seed=5, end_us=END_US)[0]
    head = {**trace, "spans": trace["spans"][:5]}
    tail = {**trace, "spans": trace["spans"][5:]}
    store = TraceStore([head, tail])
    assert len(store) == 1
    merged = store.lookup(trace["traceID"])
    assert merged is not None
    assert len(merged["spans"]) == len(trace["spans"])
