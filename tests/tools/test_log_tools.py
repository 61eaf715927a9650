"""Log tools against the real OpenSearch-API server (osmem-server) with bulk-loaded logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.procs import OpenSearchProcess, free_port
from sandbox.serve import ServerThread
from tools.base import ErrorKind, ToolFailure
from tools.budget import OutputBudget
from tools.config import LogSearchConfig
from tools.logs.aggregation_tools import (
    ErrorHistogramArgs,
    ErrorHistogramData,
    ErrorHistogramTool,
    TopErrorsArgs,
    TopErrorsData,
    TopErrorsTool,
)
from tools.logs.client import build_search_client
from tools.logs.dsl import LogFilter
from tools.logs.search_tool import LogSearchArgs, LogSearchData, LogSearchTool
from tools.logs.stream import iter_logs
from tools.timewindow import TimeWindow, iso

Docs = dict[str, list[dict[str, Any]]]
CHECKOUT_DB_ERROR = "connection refused to payments-db:5432"


def config_for(server: OpenSearchProcess, **overrides: Any) -> LogSearchConfig:
    return LogSearchConfig(url=server.url, flavor="opensearch", **overrides)


def window_args(now: datetime) -> dict[str, str]:
    return {"start": iso(now - timedelta(hours=2)), "end": iso(now)}


def count(docs: Docs, wanted: Callable[[dict[str, Any]], bool]) -> int:
    return sum(1 for batch in docs.values() for doc in batch if wanted(doc))


def search_data(result: Any) -> LogSearchData:
    assert isinstance(result.data, LogSearchData), result.content
    return result.data


def test_default_elasticsearch_flavour_gets_406_and_the_message_names_the_fix(
    opensearch: OpenSearchProcess, history_now: datetime
) -> None:
    tool = LogSearchTool(LogSearchConfig(url=opensearch.url, flavor="elasticsearch"))
    result = tool.run(LogSearchArgs(**window_args(history_now)))
    assert result.is_error
    assert result.error_kind is ErrorKind.MISCONFIGURED
    assert "compatible-with" in result.content
    assert "set flavor: opensearch" in result.content


def test_search_filters_by_service_level_and_text_newest_first(
    opensearch: OpenSearchProcess, history_now: datetime, log_documents: Docs
) -> None:
    tool = LogSearchTool(config_for(opensearch))
    args = LogSearchArgs(
        service="checkout", level="error", text="connection refused", **window_args(history_now)
    )
    result = tool.run(args)
    data = search_data(result)
    expected = count(log_documents, lambda d: d["message"] == CHECKOUT_DB_ERROR)
    assert data.total == expected
    assert len(data.records) == 20
    assert {r.message for r in data.records} == {CHECKOUT_DB_ERROR}
    stamps = [r.timestamp for r in data.records]
    assert stamps == sorted(stamps, reverse=True)  # type: ignore[type-var]
    assert f"[ERROR] checkout: {CHECKOUT_DB_ERROR}" in result.content
    (evidence,) = result.evidence
    query = json.loads(evidence.query)
    assert {"terms": {"service.name": ["checkout"]}} in query["query"]["bool"]["filter"]
    assert evidence.link is None  # no Kibana configured


def test_level_filter_matches_other_spellings_of_the_level(
    opensearch: OpenSearchProcess, history_now: datetime, log_documents: Docs
) -> None:
    tool = LogSearchTool(config_for(opensearch))
    result = tool.run(LogSearchArgs(service="payments", level="error", **window_args(history_now)))
    expected = count(log_documents, lambda d: d["log"]["level"] == "ERROR")
    assert search_data(result).total == expected
    assert expected > 0


def test_evidence_links_to_kibana_discover_when_configured(
    opensearch: OpenSearchProcess, history_now: datetime
) -> None:
    config = config_for(opensearch, kibana_url="https://kibana.example", kibana_data_view="logs")
    result = LogSearchTool(config).run(
        LogSearchArgs(service="cart", level="warn", **window_args(history_now))
    )
    link = result.evidence[0].link
    assert link is not None
    assert link.startswith("https://kibana.example/app/discover#/?_g=(time:(from:'")
    decoded = unquote(link)
    assert f"to:'{iso(history_now)}'" in decoded
    assert "index:'logs'" in decoded
    assert 'service.name:("cart") and log.level:("warn"' in decoded


def test_page_size_is_capped_by_configuration(
    opensearch: OpenSearchProcess, history_now: datetime
) -> None:
    tool = LogSearchTool(config_for(opensearch, max_page_size=5))
    result = tool.run(LogSearchArgs(limit=500, **window_args(history_now)))
    data = search_data(result)
    assert len(data.records) == 5
    assert data.total > 5
    assert "page size capped at 5" in result.content
    assert result.truncated


def test_content_stays_within_the_output_budget(
    opensearch: OpenSearchProcess, history_now: datetime
) -> None:
    budget = OutputBudget(max_tokens=100)
    tool = LogSearchTool(config_for(opensearch, output=budget, max_page_size=200))
    result = tool.run(LogSearchArgs(limit=200, **window_args(history_now)))
    assert len(result.content) <= budget.max_chars
    assert "more returned lines left out" in result.content
    assert len(search_data(result).records) == 200


def test_window_longer_than_the_cap_is_refused(opensearch: OpenSearchProcess) -> None:
    result = LogSearchTool(config_for(opensearch)).run(LogSearchArgs(lookback="30d"))
    assert result.error_kind is ErrorKind.TOO_LARGE
    assert "30d" in result.content


def test_no_matching_logs_is_no_data(opensearch: OpenSearchProcess, history_now: datetime) -> None:
    result = LogSearchTool(config_for(opensearch)).run(
        LogSearchArgs(text="kernel panic", **window_args(history_now))
    )
    assert result.no_data
    assert result.ok
    assert result.content.startswith("No data")


def test_top_errors_groups_messages_by_frequency(
    opensearch: OpenSearchProcess, history_now: datetime, log_documents: Docs
) -> None:
    result = TopErrorsTool(config_for(opensearch)).run(TopErrorsArgs(**window_args(history_now)))
    assert isinstance(result.data, TopErrorsData), result.content
    top = result.data.groups[0]
    expected = count(log_documents, lambda d: d["message"] == CHECKOUT_DB_ERROR)
    assert top.message == CHECKOUT_DB_ERROR
    assert top.count == expected
    assert top.services == {"checkout": expected}
    assert [g.message for g in result.data.groups][1] == "card processor returned 503"
    assert f"- {expected}x {CHECKOUT_DB_ERROR} (checkout {expected};" in result.content
    query = json.loads(result.evidence[0].query)
    assert query["aggs"]["messages"]["terms"]["field"] == "message.keyword"


def test_error_histogram_shows_when_the_spike_began(
    opensearch: OpenSearchProcess, history_now: datetime
) -> None:
    tool = ErrorHistogramTool(config_for(opensearch))
    result = tool.run(ErrorHistogramArgs(by_service=True, **window_args(history_now)))
    data = result.data
    assert isinstance(data, ErrorHistogramData), result.content
    assert data.interval_seconds == 120  # 2h / 60 buckets
    assert data.spike_start is not None
    spike_ago = history_now - data.spike_start
    assert timedelta(minutes=28) <= spike_ago <= timedelta(minutes=32)
    assert data.peak is not None
    assert data.peak.count >= 6
    assert set(data.by_service) == {"checkout", "payments"}
    assert "the spike began at" in result.content


def test_stream_pages_with_search_after_through_every_document_in_order(
    opensearch: OpenSearchProcess, history_now: datetime, log_documents: Docs
) -> None:
    config = config_for(opensearch, stream_batch_size=64)
    window = TimeWindow(history_now - timedelta(hours=2), history_now)
    records = list(iter_logs(build_search_client(config), config, LogFilter(window=window)))
    expected = count(log_documents, lambda d: d["@timestamp"] <= iso(history_now))
    assert len(records) == expected
    assert len({(r.index, r.id) for r in records}) == expected
    stamps = [r.timestamp for r in records]
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    assert {r.index for r in records} == {"logs-app", "logs-hdfs"}
    limited = list(
        iter_logs(build_search_client(config), config, LogFilter(window=window), max_documents=100)
    )
    assert [r.id for r in limited] == [r.id for r in records[:100]]


def test_stream_refuses_windows_over_the_cap(opensearch: OpenSearchProcess) -> None:
    config = config_for(opensearch)
    now = datetime.now().astimezone()
    window = TimeWindow(now - timedelta(days=30), now)
    with pytest.raises(ToolFailure) as caught:
        next(iter_logs(build_search_client(config), config, LogFilter(window=window)))
    assert caught.value.kind is ErrorKind.TOO_LARGE


def test_missing_index_is_reported_as_not_found(
    opensearch: OpenSearchProcess, history_now: datetime
) -> None:
    tool = LogSearchTool(config_for(opensearch, index_pattern="no-such-index"))
    result = tool.run(LogSearchArgs(**window_args(history_now)))
    assert result.error_kind is ErrorKind.NOT_FOUND
    assert "'no-such-index'" in result.content


def test_unreachable_log_store_gives_an_error_result() -> None:
    config = LogSearchConfig(url=f"http://127.0.0.1:{free_port()}", flavor="opensearch")
    result = LogSearchTool(config).run(LogSearchArgs())
    assert result.error_kind is ErrorKind.UNAVAILABLE
    assert "Cannot reach the log store" in result.content


def test_opensearch_flavour_accepts_a_server_that_does_not_claim_to_be_elasticsearch() -> None:
    """Real OpenSearch sends no X-Elastic-Product header, which elasticsearch-py checks."""
    seen: list[str] = []

    async def search(request: Request) -> JSONResponse:
        seen.append(request.headers["content-type"])
        hits = {"total": {"value": 0, "relation": "eq"}, "hits": []}
        return JSONResponse({"took": 1, "timed_out": False, "hits": hits})

    app = Starlette(routes=[Route("/{index}/_search", search, methods=["POST"])])
    with ServerThread(app) as server:
        tool = LogSearchTool(LogSearchConfig(url=server.url, flavor="opensearch"))
        result = tool.run(LogSearchArgs())
    assert result.no_data, result.content
    assert seen == ["application/json"]
