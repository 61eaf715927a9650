"""Range queries through prometheus-api-client (RangeFrames) read what the httpx client reads
from a real Prometheus, and fail the way it fails: rejected PromQL, an unreachable server and
a redirect each give an actionable ToolFailure."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from sandbox.procs.prometheus import PrometheusProcess
from tests.capacity.capacity_prometheus import CAPACITY_NOW
from tools.base import ErrorKind, ToolFailure
from tools.config import PrometheusConfig
from tools.metrics.api import PrometheusApi
from tools.metrics.frames import RangeFrames

USED = "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes)"
START = CAPACITY_NOW - timedelta(days=3)
STEP = timedelta(hours=1)


@pytest.fixture(scope="module")
def prom(capacity_prometheus: PrometheusProcess) -> PrometheusProcess:
    return capacity_prometheus


Points = list[tuple[datetime, float]]


def history(config: PrometheusConfig, expr: str) -> list[tuple[dict[str, str], Points]]:
    frames = RangeFrames(config)
    try:
        return [
            (dict(s.labels), s.points()) for s in frames.history(expr, START, CAPACITY_NOW, STEP)
        ]
    finally:
        frames.close()


def test_frames_give_the_same_series_and_values_as_the_httpx_client(
    prom: PrometheusProcess,
) -> None:
    api = PrometheusApi(PrometheusConfig(url=prom.url))
    try:
        expected = {
            tuple(sorted(row["metric"].items())): [
                (datetime.fromtimestamp(float(at), UTC), float(value))
                for at, value in row["values"]
            ]
            for row in api.query_range(USED, START, CAPACITY_NOW, STEP)["result"]
        }
    finally:
        api.close()
    got = {
        tuple(sorted(labels.items())): points
        for labels, points in history(PrometheusConfig(url=prom.url), USED)
    }
    assert len(expected) >= 3
    assert got == expected
    first = next(iter(got.values()))
    assert len(first) == 73  # 3 days at 1 h, both ends included
    assert all(at.tzinfo is not None and at.utcoffset() == timedelta(0) for at, _ in first)
    assert all(isinstance(value, float) for _, value in first)


def test_bad_promql_is_rejected_with_prometheus_own_error(prom: PrometheusProcess) -> None:
    with pytest.raises(ToolFailure) as failure:
        history(
            PrometheusConfig(url=prom.url), "sum by (namespace (kubelet_volume_stats_used_bytes)"
        )
    assert failure.value.kind is ErrorKind.REJECTED
    assert "Prometheus rejected the query" in failure.value.message
    assert "parse error" in failure.value.message
    assert "Fix the PromQL" in failure.value.message


def test_an_unreachable_prometheus_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ToolFailure) as failure:
        history(PrometheusConfig(url=f"http://127.0.0.1:{port}", timeout_seconds=3), USED)
    assert failure.value.kind is ErrorKind.UNAVAILABLE
    assert "Cannot reach Prometheus" in failure.value.message
    assert "continue with other sources" in failure.value.message


class _Recorder:
    """A local HTTP server answering every request with one canned response, and
    remembering what it was asked."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                recorder.requests.append((self.command, self.path, dict(self.headers)))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> _Recorder:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def redirector(prom: PrometheusProcess) -> Iterator[_Recorder]:
    # Following the redirect would reach the real Prometheus and succeed.
    location = f"{prom.url}/api/v1/query_range"
    with _Recorder(302, {"Location": location}, b"") as server:
        yield server


def test_a_redirect_is_refused_not_followed(redirector: _Recorder) -> None:
    with pytest.raises(ToolFailure) as failure:
        history(PrometheusConfig(url=redirector.url), USED)
    assert failure.value.kind is ErrorKind.UNAVAILABLE
    assert "redirect (HTTP 302)" in failure.value.message
    assert len(redirector.requests) == 1


def test_the_query_is_posted_with_the_token_and_an_evaluation_timeout() -> None:
    body = (
        b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":'
        b'{"pod":"a"},"values":[[1741770000,"1.5"],[1741773600,"NaN"]]}]}}'
    )
    with _Recorder(200, {"Content-Type": "application/json"}, body) as server:
        config = PrometheusConfig(
            url=server.url, bearer_token=SecretStr("s3cret"), timeout_seconds=7.5
        )
        got = history(config, USED)
    [(method, path, headers)] = server.requests
    assert method == "POST"
    sent = parse_qs(urlsplit(path).query)
    assert sent["query"] == [USED]
    assert sent["timeout"] == ["7s"]
    assert sent["step"] == ["3600"]
    assert headers["Authorization"] == "Bearer s3cret"
    [(labels, points)] = got
    assert labels == {"pod": "a"}
    assert points[0] == (datetime(2025, 3, 12, 9, 0, tzinfo=UTC), 1.5)
    assert points[1][1] != points[1][1]  # NaN stays a float NaN


def test_an_error_status_without_the_api_envelope_names_the_status() -> None:
    with (
        _Recorder(503, {"Content-Type": "text/plain"}, b"upstream down") as server,
        pytest.raises(ToolFailure) as failure,
    ):
        history(PrometheusConfig(url=server.url), USED)
    assert failure.value.kind is ErrorKind.UNAVAILABLE
    assert "HTTP 503" in failure.value.message
    assert "upstream down" in failure.value.message
