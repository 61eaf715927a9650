"""Whatever the model asks, the tools only call their configured backends, under the caps.

Every tool is called through the Toolbox with hostile arguments: URLs to other hosts
(metadata service, `//host`, `@host`), CRLF header injection, path traversal, huge ranges,
tiny steps, enormous limits and regexes matching everything. Real servers record every
request: the backends (each under its own path prefix) and an "evil" server that must
never hear from the bot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.hardening.recording_server import RecordingBackend, Seen, serving
from tools.base import ErrorKind, ToolFailure
from tools.config import (
    JaegerConfig,
    KubernetesConfig,
    LogSearchConfig,
    PrometheusConfig,
    ToolsConfig,
)
from tools.http_backend import HttpBackend
from tools.logs.client import build_search_client
from tools.logs.dsl import LogFilter
from tools.logs.stream import iter_logs
from tools.registry import build_toolbox
from tools.timewindow import TimeWindow
from tools.toolbox import Toolbox

PREFIXES = {
    "prometheus": "/prom",
    "alert_rule": "/prom",
    "log": "/logs",
    "jaeger": "/jaeger",
    "service_graph": "/jaeger",
    "k8s": "/kube",
    "workload_resources": "/kube",
    "workload_config": "/kube",
    "change_timeline": "/kube",
}
BASE_ARGS: dict[str, dict[str, Any]] = {
    "prometheus_query": {"query": "up"},
    "prometheus_range_query": {"query": "up"},
    "prometheus_series": {"match": ["up"]},
    "jaeger_find_traces": {"service": "checkout"},
    "jaeger_get_trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"},
    "k8s_pod_logs": {"pod": "checkout-1"},
    "k8s_deployment": {"name": "checkout"},
    "alert_rule": {"name": "HighErrorRate"},
    "service_graph": {"service": "checkout"},
    "workload_resources": {"workload": "checkout"},
    "workload_config": {"workload": "checkout"},
}


@dataclass
class Servers:
    backend: RecordingBackend
    evil: RecordingBackend
    backend_url: str
    evil_url: str
    toolbox: Toolbox


@pytest.fixture
def servers() -> Iterator[Servers]:
    backend, evil = RecordingBackend(), RecordingBackend()
    with serving(backend) as url, serving(evil) as evil_url:
        config = ToolsConfig(
            prometheus=PrometheusConfig(url=f"{url}/prom", timeout_seconds=2),
            logs=LogSearchConfig(url=f"{url}/logs", flavor="opensearch", timeout_seconds=2),
            jaeger=JaegerConfig(url=f"{url}/jaeger", timeout_seconds=2),
            kubernetes=KubernetesConfig(api_url=f"{url}/kube", timeout_seconds=2),
        )
        toolbox = build_toolbox(config)
        try:
            yield Servers(backend, evil, url, evil_url, toolbox)
        finally:
            toolbox.close()


def hostile_strings(evil_url: str) -> list[str]:
    host = urlsplit(evil_url).netloc
    return [
        "http://169.254.169.254/latest/meta-data",
        f"{evil_url}/steal",
        f"//{host}/steal",
        f"@{host}",
        f"x@{host}/steal",
        f"checkout\r\nHost: {host}\r\nX-Injected: 1",
        "checkout\r\n\r\nGET /steal HTTP/1.1",
        "../../../../etc/passwd",
        "..",
        "%2e%2e/%2e%2e/admin",
        "..%2f..%2fadmin",
        "/..;/admin",
        "checkout?x=1#frag",
        "checkout/../../api/v1/secrets",
    ]


def _string_fields(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, shape) for every argument a string can reach: str, list[str], dict[str,str]."""
    found = []
    for name, spec in schema["properties"].items():
        kinds = [spec.get("type")] + [s.get("type") for s in spec.get("anyOf", [])]
        if "string" in kinds:
            found.append((name, "str"))
        elif "array" in kinds:
            found.append((name, "list"))
        elif "object" in kinds:
            found.append((name, "dict"))
    return found


def _with(args: dict[str, Any], name: str, shape: str, value: str) -> dict[str, Any]:
    if shape == "list":
        return {**args, name: [value]}
    if shape == "dict":
        return {**args, name: {"app": value, value: "x"}}
    return {**args, name: value}


def _prefix_of(tool: str) -> str:
    return next(p for key, p in PREFIXES.items() if tool.startswith(key))


def _leaves_its_prefix(seen: Seen, prefix: str) -> bool:
    raw = seen.raw_path.decode("latin-1")
    segments = [unquote(s) for s in raw.split("/")]
    return not raw.startswith(prefix + "/") or any(s in (".", "..") for s in segments)


def test_hostile_arguments_never_reach_another_host_or_path(servers: Servers) -> None:
    tried = 0
    for tool_name in servers.toolbox.names():
        tool = servers.toolbox.get(tool_name)
        base = BASE_ARGS.get(tool_name, {})
        for field, shape in _string_fields(tool.input_schema()):
            for value in hostile_strings(servers.evil_url):
                before = len(servers.backend.requests())
                result = servers.toolbox.run(tool_name, _with(base, field, shape, value))
                tried += 1
                assert "Traceback" not in result.content
                assert result.error_kind is not ErrorKind.INTERNAL, (tool_name, field, value)
                for seen in servers.backend.requests()[before:]:
                    assert not _leaves_its_prefix(seen, _prefix_of(tool_name)), (
                        tool_name,
                        field,
                        value,
                        seen.raw_path,
                    )
                    assert "x-injected" not in seen.headers
                    assert seen.headers["host"] == urlsplit(servers.backend_url).netloc
    assert servers.evil.requests() == []
    assert tried > 300
    assert servers.backend.requests()  # the tools did call their own backends


# --- caps on what a query may ask of a backend ------------------------------------------------


def _form(seen: Seen) -> dict[str, list[str]]:
    return parse_qs(seen.body.decode() or seen.query.decode())


def test_a_range_query_never_asks_for_more_than_the_configured_window_step_or_points(
    servers: Servers,
) -> None:
    servers.backend.body = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    hostile = [
        {"query": "up", "start": "1970-01-01T00:00:00Z", "step": "1ms"},
        {"query": "up", "lookback": "3650d", "step": "1ms"},
        {"query": "up", "lookback": "1h", "step": "0.001s"},
        {"query": '{__name__=~".+"}', "lookback": "30d", "step": "1s"},
    ]
    for args in hostile:
        servers.toolbox.run("prometheus_range_query", args)
    sent = [s for s in servers.backend.requests() if s.path.endswith("/query_range")]
    config = PrometheusConfig(url="http://x")
    for seen in sent:
        form = _form(seen)
        start, end, step = (float(form[k][0]) for k in ("start", "end", "step"))
        assert end - start <= config.max_range.total_seconds()
        assert step >= config.min_step.total_seconds()
        assert (end - start) / step <= config.max_points_per_series
    assert sent  # narrowed queries were sent, not only refusals


def test_a_result_matching_every_series_is_refused_or_cut_to_the_series_cap(
    servers: Servers,
) -> None:
    result = [
        {"metric": {"__name__": "m", "instance": f"i{n}"}, "value": [1.7e9, "1"]}
        for n in range(25_000)
    ]
    servers.backend.body = {"status": "success", "data": {"resultType": "vector", "result": result}}

    answer = servers.toolbox.run("prometheus_query", {"query": '{__name__=~".+"}'})

    config = PrometheusConfig(url="http://x")
    if answer.is_error:
        assert answer.error_kind is ErrorKind.TOO_LARGE
    else:
        assert answer.data is not None
        assert len(json.dumps(answer.data.model_dump(mode="json"))) < 200_000
    assert len(answer.content) <= config.output.max_tokens * 8


def test_log_searches_ask_for_a_bounded_page_window_and_number_of_pages(servers: Servers) -> None:
    hits = [
        {
            "_index": "logs-app",
            "_id": str(n),
            "_source": {"@timestamp": "2026-01-01T00:00:00Z", "message": "boom", "level": "error"},
            "sort": [1_767_225_600_000 - n, n],
        }
        for n in range(1000)
    ]
    servers.backend.body = {
        "took": 1,
        "timed_out": False,
        "hits": {"total": {"value": 10**9, "relation": "gte"}, "hits": hits},
        "aggregations": {},
    }
    config = LogSearchConfig(url="http://x")
    for tool, args in (
        ("log_search", {"limit": 10**9, "start": "1970-01-01T00:00:00Z"}),
        ("log_search", {"limit": 10**6, "lookback": "36500d", "text": ".*"}),
        ("log_top_errors", {"limit": 10**9, "lookback": "36500d"}),
        ("log_error_histogram", {"lookback": "36500d", "text": "*"}),
    ):
        before = len(servers.backend.requests())
        servers.toolbox.run(tool, args)
        sent = servers.backend.requests()[before:]
        assert len(sent) <= 20, (tool, len(sent))  # search_after paging stops
        for seen in sent:
            body = json.loads(seen.body or b"{}")
            assert body.get("size", 0) <= max(config.max_page_size, config.stream_batch_size)
            span = _range_of(body)
            if span is not None:
                assert span <= config.max_window + timedelta(minutes=1), (tool, span)


def _range_of(body: dict[str, Any]) -> timedelta | None:
    """The @timestamp range a search asks for, wherever the query nests it."""
    text = json.dumps(body)
    marker = text.find('"range"')
    if marker < 0:
        return None
    found = json.loads(text[marker + len('"range": ') : text.index("}}", marker) + 2])
    bounds = next(iter(found.values()))
    lower, upper = bounds.get("gte") or bounds.get("gt"), bounds.get("lte") or bounds.get("lt")
    if lower is None or upper is None:
        return None
    return _when(upper) - _when(lower)


def _when(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def test_trace_and_kubernetes_lists_are_capped_whatever_the_limit_asked(
    servers: Servers,
) -> None:
    jaeger = JaegerConfig(url="http://x")
    kube = KubernetesConfig(api_url="http://x")
    servers.backend.body = {"data": [], "kind": "PodList", "items": [], "metadata": {}}
    refused = servers.toolbox.run("jaeger_find_traces", {"service": "checkout", "limit": 10**9})
    servers.toolbox.run(
        "jaeger_find_traces", {"service": "checkout", "limit": 100, "lookback": "3650d"}
    )
    servers.toolbox.run("k8s_pods", {"namespace": "prod", "selector": "app in (a,b,c)"})
    servers.toolbox.run("k8s_events", {"namespace": "prod"})
    servers.toolbox.run("k8s_pod_logs", {"pod": "checkout-1", "tail_lines": 10**9})

    assert refused.error_kind is ErrorKind.INVALID_INPUT
    for seen in servers.backend.requests():
        query = parse_qs(seen.query.decode())
        if seen.path.startswith("/jaeger/api/traces"):
            assert int(query["limit"][0]) <= jaeger.max_traces
            start, end = int(query["start"][0]), int(query["end"][0])
            assert (end - start) / 1e6 <= jaeger.max_window.total_seconds()
        if seen.path.startswith("/kube/") and "limit" in query:
            assert int(query["limit"][0]) <= max(kube.max_pods, kube.max_events) + 1
        if seen.path.endswith("/log"):
            assert int(query["tailLines"][0]) <= kube.max_log_lines


def test_the_http_backend_refuses_paths_that_would_leave_the_configured_url(
    servers: Servers,
) -> None:
    backend = HttpBackend("Prometheus", f"{servers.backend_url}/prom", timeout_seconds=2)
    escapes = [
        f"{servers.evil_url}/steal",
        f"//{urlsplit(servers.evil_url).netloc}/steal",
        "/api/v1/../../../admin",
        "/api/v1/%2e%2e/%2e%2e/admin",
        "/api/v1/query\r\nX-Injected: 1",
        "api/v1/query",
    ]
    try:
        refusals = []
        for path in escapes:
            with pytest.raises(ToolFailure) as caught:
                backend.request("GET", path)
            refusals.append(caught.value.kind)
        backend.request("GET", "/api/v1/query")
    finally:
        backend.close()

    assert refusals == [ErrorKind.INVALID_INPUT] * len(escapes)
    assert servers.evil.requests() == []
    assert [s.path for s in servers.backend.requests()] == ["/prom/api/v1/query"]


def test_log_streaming_stops_when_the_search_after_cursor_does_not_advance(
    servers: Servers,
) -> None:
    stuck = [
        {"_id": str(n), "_source": {"@timestamp": "2026-01-01T00:00:00Z", "message": "m"}}
        | {"sort": [1, 1]}
        for n in range(10)
    ]
    servers.backend.body = {"hits": {"total": {"value": 10**9}, "hits": stuck}}
    config = LogSearchConfig(url=f"{servers.backend_url}/logs", flavor="opensearch")
    client = build_search_client(config)
    end = datetime.now(UTC)
    window = LogFilter(TimeWindow(end - timedelta(hours=1), end))
    try:
        with pytest.raises(ToolFailure) as caught:
            for _ in iter_logs(client, config, window, batch_size=10):
                pass
    finally:
        client.close()

    assert "did not advance" in caught.value.message
    assert len(servers.backend.requests()) == 2
