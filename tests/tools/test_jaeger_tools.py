"""Jaeger tools against the Jaeger query API stand-in (sandbox.jaeger) holding a shop's traces."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.procs import free_port
from sandbox.serve import ServerThread
from tools.base import ErrorKind, ToolResult
from tools.config import JaegerConfig
from tools.traces.summary import TraceSummary
from tools.traces.tools import (
    FindTracesArgs,
    GetTraceArgs,
    JaegerFindTracesTool,
    JaegerGetTraceTool,
    JaegerServicesTool,
    ServicesArgs,
    ServicesData,
    TraceSearchData,
)

Traces = dict[str, list[dict[str, Any]]]
UI = "https://jaeger.example"
CARD_TIMEOUT = "card processor did not answer within 2000ms"


def config_for(server: ServerThread, **overrides: Any) -> JaegerConfig:
    return JaegerConfig(url=server.url, ui_url=UI, **overrides)


def search_data(result: ToolResult) -> TraceSearchData:
    assert isinstance(result.data, TraceSearchData), result.content
    return result.data


def test_services_and_operations_are_listed(jaeger: ServerThread) -> None:
    tool = JaegerServicesTool(config_for(jaeger))
    services = tool.run(ServicesArgs())
    assert isinstance(services.data, ServicesData)
    assert {"frontend", "checkout", "payments", "service-x"} <= set(services.data.names)
    operations = tool.run(ServicesArgs(service="payments"))
    assert isinstance(operations.data, ServicesData)
    assert "POST /charge" in operations.data.names
    assert operations.evidence[0].query == "GET /api/services/payments/operations"


def test_find_traces_summarises_slowest_first_with_links(
    jaeger: ServerThread, jaeger_traces: Traces
) -> None:
    result = JaegerFindTracesTool(config_for(jaeger)).run(
        FindTracesArgs(service="frontend", lookback="1h", limit=50)
    )
    data = search_data(result)
    shop_traces = sum(len(jaeger_traces[k]) for k in ("normal", "errors", "slow"))
    assert len(data.traces) == shop_traces
    durations = [t.duration_ms for t in data.traces]
    assert durations == sorted(durations, reverse=True)
    slow_ids = {t["traceID"] for t in jaeger_traces["slow"]}
    assert {t.trace_id for t in data.traces[:2]} == slow_ids
    assert data.traces[0].slowest[0].service == "payments"
    assert data.traces[0].link == f"{UI}/trace/{data.traces[0].trace_id}"
    (evidence,) = result.evidence
    assert evidence.query.startswith("GET /api/traces?service=frontend&start=")
    assert evidence.link is not None
    params = parse_qs(urlsplit(evidence.link).query)
    assert evidence.link.startswith(f"{UI}/search?")
    assert params["service"] == ["frontend"]
    assert params["lookback"] == ["custom"]


def test_errors_only_finds_failing_traces_and_names_the_origin(
    jaeger: ServerThread, jaeger_traces: Traces
) -> None:
    result = JaegerFindTracesTool(config_for(jaeger)).run(
        FindTracesArgs(service="checkout", errors_only=True, lookback="1h")
    )
    data = search_data(result)
    assert {t.trace_id for t in data.traces} == {t["traceID"] for t in jaeger_traces["errors"]}
    assert data.with_errors == 3
    assert data.traces[0].errors[0].service == "payments"
    assert f"error at payments POST /charge (500): {CARD_TIMEOUT}" in result.content
    sent = parse_qs(result.evidence[0].query.partition("?")[2])
    assert sent["tags"] == ['{"error":"true"}']


def test_min_duration_keeps_only_slow_traces(jaeger: ServerThread, jaeger_traces: Traces) -> None:
    result = JaegerFindTracesTool(config_for(jaeger)).run(
        FindTracesArgs(service="frontend", min_duration="1s", lookback="1h")
    )
    data = search_data(result)
    assert {t.trace_id for t in data.traces} == {t["traceID"] for t in jaeger_traces["slow"]}
    assert "minDuration=1000000us" in result.evidence[0].query


def test_trace_limit_is_capped_by_configuration(jaeger: ServerThread) -> None:
    result = JaegerFindTracesTool(config_for(jaeger, max_traces=3)).run(
        FindTracesArgs(service="frontend", limit=100, lookback="1h")
    )
    assert len(search_data(result).traces) == 3
    assert "limit=3" in result.evidence[0].query


def test_get_trace_shows_errors_slowest_spans_and_the_tree(
    jaeger: ServerThread, jaeger_traces: Traces
) -> None:
    trace_id = jaeger_traces["errors"][0]["traceID"]
    result = JaegerGetTraceTool(config_for(jaeger)).run(GetTraceArgs(trace_id=trace_id))
    assert isinstance(result.data, TraceSummary), result.content
    assert result.data.error_count == 5
    assert result.data.errors[0].error_message == CARD_TIMEOUT
    assert result.content.startswith(f"Trace {trace_id}: frontend POST /api/checkout")
    assert "Error spans, deepest (likely origin) first:" in result.content
    assert "\n        payments POST /charge (500) +" in result.content  # depth 4 in the tree
    assert result.evidence[0].link == f"{UI}/trace/{trace_id}"


def test_edge_case_trace_with_duplicate_ids_and_foreign_references_is_summarised(
    jaeger: ServerThread,
) -> None:
    result = JaegerGetTraceTool(config_for(jaeger)).run(GetTraceArgs(trace_id="1"))
    assert isinstance(result.data, TraceSummary), result.content
    assert result.data.span_count == 5
    assert result.data.services == ["service-x", "service-y"]
    assert result.data.warnings == ["some trace warning"]
    assert "Warnings: some trace warning" in result.content


def test_unknown_trace_is_not_found(jaeger: ServerThread) -> None:
    result = JaegerGetTraceTool(config_for(jaeger)).run(GetTraceArgs(trace_id="abc123"))
    assert result.error_kind is ErrorKind.NOT_FOUND
    assert "jaeger_find_traces" in result.content


def test_unknown_service_is_no_data(jaeger: ServerThread) -> None:
    result = JaegerFindTracesTool(config_for(jaeger)).run(FindTracesArgs(service="nope"))
    assert result.no_data
    assert "jaeger_services" in result.content


def test_search_window_over_the_cap_is_refused(jaeger: ServerThread) -> None:
    result = JaegerFindTracesTool(config_for(jaeger)).run(
        FindTracesArgs(service="frontend", lookback="7d")
    )
    assert result.error_kind is ErrorKind.TOO_LARGE


def test_unreachable_jaeger_gives_an_error_result() -> None:
    tool = JaegerServicesTool(JaegerConfig(url=f"http://127.0.0.1:{free_port()}"))
    result = tool.run(ServicesArgs())
    assert result.error_kind is ErrorKind.UNAVAILABLE
    assert "Cannot reach Jaeger" in result.content
