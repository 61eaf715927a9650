"""The Jaeger query API stand-in, exercised with httpx as the Jaeger UI and the bot call it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.jaeger import (
    ErrorResponses,
    NPlusOneQueries,
    SlowDependency,
    TraceStore,
    create_app,
    generate_traces,
    load_traces,
    rebase_traces,
)
from sandbox.serve import ServerThread

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
FIXTURE = SHARED / "fixtures" / "jaeger" / "ui-trace-example.json"
NOW_US = 1_750_000_000_000_000
MINUTE_US = 60_000_000
DAY_US = 24 * 60 * MINUTE_US


def _stored_traces() -> dict[str, list[dict[str, Any]]]:
    end = NOW_US - MINUTE_US
    return {
        "normal": generate_traces(count=6, seed=1, end_us=end - 30 * MINUTE_US),
        "errors": generate_traces(
            count=3, seed=2, end_us=end - 20 * MINUTE_US, patterns=[ErrorResponses()]
        ),
        "slow": generate_traces(
            count=2, seed=3, end_us=end - 10 * MINUTE_US, patterns=[SlowDependency()]
        ),
        "n_plus_one": generate_traces(count=2, seed=4, end_us=end, patterns=[NPlusOneQueries()]),
        "fixture": rebase_traces(load_traces(FIXTURE), end_us=NOW_US - 3 * DAY_US),
    }


@pytest.fixture(scope="module")
def traces() -> dict[str, list[dict[str, Any]]]:
    return _stored_traces()


@pytest.fixture(scope="module")
def jaeger(traces: dict[str, list[dict[str, Any]]]) -> Iterator[httpx.Client]:
    store = TraceStore(trace for batch in traces.values() for trace in batch)
    server = ServerThread(create_app(store, now_us=lambda: NOW_US)).start()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client
    server.stop()


def ids(answer: dict[str, Any]) -> set[str]:
    return {trace["traceID"] for trace in answer["data"]}


def test_services_are_listed_sorted_in_jaeger_envelope(jaeger: httpx.Client) -> None:
    answer = jaeger.get("/api/services")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    names = ["checkout", "frontend", "inventory", "payments", "service-x", "service-y"]
    assert answer.json() == {"data": names, "total": 6, "limit": 0, "offset": 0, "errors": None}


def test_legacy_operations_endpoint_lists_a_services_operation_names(jaeger: httpx.Client) -> None:
    answer = jaeger.get("/api/services/payments/operations").json()
    assert answer["data"] == ["INSERT payments", "POST /charge"]
    assert answer["total"] == 2


def test_operations_of_an_unknown_service_are_null_as_in_jaeger(jaeger: httpx.Client) -> None:
    answer = jaeger.get("/api/services/nope/operations").json()
    assert answer == {"data": None, "total": 0, "limit": 0, "offset": 0, "errors": None}


def test_operations_endpoint_returns_names_with_span_kinds_and_filters_by_kind(
    jaeger: httpx.Client,
) -> None:
    every = jaeger.get("/api/operations", params={"service": "checkout"}).json()
    assert {(op["name"], op["spanKind"]) for op in every["data"]} == {
        ("POST /checkout", "server"),
        ("POST", "client"),
        ("INSERT orders", "client"),
    }
    servers = jaeger.get("/api/operations", params={"service": "checkout", "spanKind": "server"})
    assert servers.json()["data"] == [{"name": "POST /checkout", "spanKind": "server"}]


def test_operations_endpoint_without_service_answers_400_envelope(jaeger: httpx.Client) -> None:
    answer = jaeger.get("/api/operations")
    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"code": 400, "msg": "parameter 'service' is required"}]


def test_trace_search_without_service_answers_jaegers_exact_error(jaeger: httpx.Client) -> None:
    answer = jaeger.get("/api/traces", params={"lookback": "1h"})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.json() == {
        "data": None,
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": [{"code": 400, "msg": "parameter 'service' is required"}],
    }


def test_trace_search_returns_traces_in_envelope_with_total_zero_like_jaeger(
    jaeger: httpx.Client, traces: dict[str, list[dict[str, Any]]]
) -> None:
    answer = jaeger.get("/api/traces", params={"service": "frontend"}).json()
    stored = [t for name in ("normal", "errors", "slow", "n_plus_one") for t in traces[name]]
    assert ids(answer) == {trace["traceID"] for trace in stored}
    assert (answer["total"], answer["limit"], answer["offset"], answer["errors"]) == (0, 0, 0, None)
    starts = [trace["spans"][0]["startTime"] for trace in answer["data"]]
    assert starts == sorted(starts)


def test_tags_filter_finds_only_the_failing_traces(
    jaeger: httpx.Client, traces: dict[str, list[dict[str, Any]]]
) -> None:
    tags = json.dumps({"http.status_code": "500", "error": "true"})
    answer = jaeger.get("/api/traces", params={"service": "payments", "tags": tags}).json()
    assert ids(answer) == {trace["traceID"] for trace in traces["errors"]}


def test_tags_match_log_fields_and_process_tags_too(
    jaeger: httpx.Client, traces: dict[str, list[dict[str, Any]]]
) -> None:
    by_log = jaeger.get(
        "/api/traces",
        params={"service": "payments", "tag": ["event:error", "error.object:CardProcessorTimeout"]},
    ).json()
    assert ids(by_log) == {trace["traceID"] for trace in traces["errors"]}
    hostname = traces["normal"][0]["processes"]["p1"]["tags"][0]["value"]
    by_process = jaeger.get(
        "/api/traces", params={"service": "frontend", "tag": f"hostname:{hostname}"}
    ).json()
    assert ids(by_process) == {trace["traceID"] for trace in traces["normal"]}


def test_min_and_max_duration_select_spans_by_go_duration(
    jaeger: httpx.Client, traces: dict[str, list[dict[str, Any]]]
) -> None:
    slow = jaeger.get("/api/traces", params={"service": "payments", "minDuration": "1.1s"}).json()
    assert ids(slow) == {trace["traceID"] for trace in traces["slow"]}
    fast = jaeger.get(
        "/api/traces",
        params={"service": "payments", "operation": "POST /charge", "maxDuration": "500ms"},
    ).json()
    assert ids(fast).isdisjoint(ids(slow))
    assert len(fast["data"]) == 11


def test_operation_filter_and_minimum_in_microseconds_find_n_plus_one_traces(
    jaeger: httpx.Client, traces: dict[str, list[dict[str, Any]]]
) -> None:
    answer = jaeger.get(
        "/api/traces",
        params={"service": "inventory", "operation": "POST /reserve", "minDuration": "25000us"},
    ).json()
    assert ids(answer) == {trace["traceID"] for trace in traces["n_plus_one"]}


def test_limit_keeps_only_the_newest_traces(
    jaeger: httpx.Client, traces: dict[str, list[dict[str, Any]]]
) -> None:
    answer = jaeger.get("/api/traces", params={"service": "frontend", "limit": "2"}).json()
    assert ids(answer) == {trace["traceID"] for trace in traces["n_plus_one"]}


def test_default_window_is_two_days_and_lookback_is_left_to_the_ui(jaeger: httpx.Client) -> None:
    """Jaeger's server ignores `lookback`; the UI turns it into start/end (µs)."""
    assert jaeger.get("/api/traces", params={"service": "service-x"}).json()["data"] == []
    ignored = jaeger.get("/api/traces", params={"service": "service-x", "lookback": "custom"})
    assert ignored.json()["data"] == []
    window = {"start": str(NOW_US - 4 * DAY_US), "end": str(NOW_US - 2 * DAY_US)}
    found = jaeger.get("/api/traces", params={"service": "service-x", **window}).json()
    assert ids(found) == {"0000000000000001"}


def test_start_and_end_bound_the_search_window(
    jaeger: httpx.Client, traces: dict[str, list[dict[str, Any]]]
) -> None:
    newest = traces["n_plus_one"][0]["spans"][0]["startTime"]
    answer = jaeger.get(
        "/api/traces", params={"service": "frontend", "start": str(newest - 1)}
    ).json()
    assert ids(answer) == {trace["traceID"] for trace in traces["n_plus_one"]}


@pytest.mark.parametrize("trace_id", ["1", "0000000000000001", "00000000000000000000000000000001"])
def test_trace_ids_are_normalised_and_the_trace_keeps_its_edge_cases(
    jaeger: httpx.Client, traces: dict[str, list[dict[str, Any]]], trace_id: str
) -> None:
    answer = jaeger.get(f"/api/traces/{trace_id}").json()
    assert answer["errors"] is None
    assert answer["data"] == traces["fixture"]
    trace = answer["data"][0]
    assert [span["spanID"] for span in trace["spans"]].count("2") == 2
    assert {ref["refType"] for span in trace["spans"] for ref in span["references"]} == {
        "CHILD_OF",
        "FOLLOWS_FROM",
    }
    assert trace["warnings"] == ["some trace warning"]


def test_unknown_trace_answers_404_with_jaegers_envelope(jaeger: httpx.Client) -> None:
    answer = jaeger.get("/api/traces/00000000000000000000000000abcdef")
    assert answer.status_code == 404
    assert answer.json() == {
        "data": None,
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": [{"code": 404, "msg": "trace not found"}],
    }


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/traces/xyz", 'strconv.ParseUint: parsing "xyz": invalid syntax'),
        ("/api/traces/" + "1" * 33, "TraceID cannot be longer than 32 hex characters: " + "1" * 33),
        (
            "/api/traces?service=a&minDuration=5",
            """unable to parse param 'minDuration': time: missing unit in duration "5\"""",
        ),
        (
            "/api/traces?service=a&maxDuration=1x",
            """unable to parse param 'maxDuration': time: unknown unit "x" in duration "1x\"""",
        ),
        ("/api/traces?service=a&limit=ten", 'strconv.ParseInt: parsing "ten": invalid syntax'),
        (
            "/api/traces?service=a&start=now",
            """unable to parse param 'start': strconv.ParseInt: parsing "now": invalid syntax""",
        ),
        (
            "/api/traces?service=a&minDuration=2s&maxDuration=1s",
            "'maxDuration' should be greater than 'minDuration'",
        ),
        (
            "/api/traces?service=a&tag=broken",
            "malformed 'tag' parameter, expecting key:value, received: broken",
        ),
        (
            '/api/traces?service=a&tags={"error":true}',
            "malformed 'tags' parameter, cannot unmarshal JSON: "
            "json: cannot unmarshal bool into Go value of type string",
        ),
    ],
)
def test_bad_parameters_answer_400_with_gos_error_text(
    jaeger: httpx.Client, path: str, message: str
) -> None:
    answer = jaeger.get(path)
    assert answer.status_code == 400
    assert answer.json()["errors"] == [{"code": 400, "msg": message}]


def test_search_by_trace_ids_reports_missing_ones_in_errors(jaeger: httpx.Client) -> None:
    answer = jaeger.get("/api/traces", params={"traceID": ["1", "abc"]}).json()
    assert ids(answer) == {"0000000000000001"}
    assert answer["errors"] == [{"msg": "trace not found", "traceID": "0000000000000abc"}]


def test_traces_posted_to_the_sandbox_become_searchable() -> None:
    store = TraceStore()
    server = ServerThread(create_app(store, now_us=lambda: NOW_US)).start()
    try:
        with httpx.Client(base_url=server.url) as client:
            body = {"data": generate_traces(count=2, seed=9, end_us=NOW_US)}
            assert client.post("/sandbox/traces", json=body).json() == {"added": 2, "traces": 2}
            assert client.get("/api/services").json()["total"] == 4
            assert client.get("/api/nothing").status_code == 404
    finally:
        server.stop()
