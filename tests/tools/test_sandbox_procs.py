"""The real-server runners: Alertmanager to a webhook, a Prometheus rule through Alertmanager,
clean stops, start-up failures that explain themselves, and the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.procs import (
    MetricFamily,
    ProcessStartError,
    alert,
    render_openmetrics,
    start_alertmanager,
    start_opensearch,
    start_prometheus,
)
from sandbox.serve import ServerThread

ALWAYS_FIRING = """
groups:
  - name: procs-test
    rules:
      - alert: QueueBacklog
        expr: max(queue_backlog) > 10
        labels: {severity: ticket}
"""


class WebhookReceiver:
    """Records Alertmanager webhook payloads."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

        async def hook(request: Request) -> Response:
            self.payloads.append(await request.json())
            return Response(status_code=200)

        self.server = ServerThread(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"

    def wait_for(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float = 20
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for payload in list(self.payloads):
                if wanted(payload):
                    return payload
            time.sleep(0.1)
        raise AssertionError(f"no matching webhook within {timeout}s: {self.payloads}")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver()
    hook.server.start()
    yield hook
    hook.server.stop()


def alertnames(payload: dict[str, Any]) -> set[str]:
    return {a["labels"]["alertname"] for a in payload.get("alerts", [])}


def test_alertmanager_delivers_posted_alerts_to_the_webhook(receiver: WebhookReceiver) -> None:
    with start_alertmanager(webhook_url=receiver.url) as alertmanager:
        alertmanager.post_alerts([alert("DiskFull", {"severity": "page"}, {"summary": "disk"})])
        payload = receiver.wait_for(lambda p: "DiskFull" in alertnames(p))
        assert payload["version"] == "4"
        assert payload["status"] == "firing"
        assert payload["externalURL"] == alertmanager.url
        assert [a["labels"]["alertname"] for a in alertmanager.alerts()] == ["DiskFull"]


def test_a_prometheus_rule_alert_travels_through_alertmanager(receiver: WebhookReceiver) -> None:
    now = int(time.time())
    backlog = MetricFamily("queue_backlog", "gauge")
    backlog.add({"queue": "orders"}, ((float(t), 50.0) for t in range(now - 600, now + 600, 30)))
    with (
        start_alertmanager(webhook_url=receiver.url) as alertmanager,
        start_prometheus(
            history=render_openmetrics([backlog]),
            rules=[ALWAYS_FIRING],
            alertmanager_url=alertmanager.url,
        ),
    ):
        payload = receiver.wait_for(lambda p: "QueueBacklog" in alertnames(p))
    (fired,) = payload["alerts"]
    assert fired["labels"] == {"alertname": "QueueBacklog", "severity": "ticket"}
    assert "/graph?g0.expr=" in fired["generatorURL"]


def test_stop_ends_the_process_and_removes_its_temporary_directory() -> None:
    server = start_opensearch()
    pid, workdir = server.pid, server.workdir
    assert pid is not None
    assert httpx.get(server.url).json()["version"]["distribution"] == "opensearch"
    server.stop()
    assert not workdir.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    server.stop()  # stopping twice is harmless


def test_a_server_that_cannot_start_says_why() -> None:
    with pytest.raises(ProcessStartError) as caught:
        start_prometheus(rules=["groups: [{name: broken, rules: [{alert: X, expr: 'sum('}]}]"])
    assert "prometheus exited" in str(caught.value)
    assert "parse error" in str(caught.value)


def test_cli_prints_the_url_and_stops_on_interrupt() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.procs", "opensearch"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("osmem ready at http://127.0.0.1:")
        url = line.split()[3]
        assert httpx.get(url).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
