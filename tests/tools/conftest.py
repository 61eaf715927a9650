"""Real backends for the tool tests: Prometheus with generated history, osmem-server with
bulk-loaded logs. Session-scoped: each server starts once and is stopped at the end."""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from sandbox.jaeger import (
    ErrorResponses,
    SlowDependency,
    TraceStore,
    create_app,
    generate_traces,
    load_traces,
    rebase_traces,
)
from sandbox.kube import Fault, KubeSandbox
from sandbox.procs import (
    MetricFamily,
    OpenSearchProcess,
    PrometheusProcess,
    render_openmetrics,
    start_opensearch,
    start_prometheus,
)
from sandbox.serve import ServerThread

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
MINUTE = 60
HOUR = 3600
DAY = 86400
STEP_CHANGE_AGO = 6 * HOUR  # checkout's 5xx rate jumps from 1/s to 5/s this long before now
POD_COUNT = 150
HIGH_ERROR_RULE = """
groups:
  - name: opsbot-test
    rules:
      - alert: HighErrorRate
        expr: sum by (service) (rate(http_requests_total{code="500"}[5m])) > 3
        labels: {severity: page}
        annotations: {summary: "{{ $labels.service }} serves too many 5xx"}
      - alert: OrdersQueueBacklog
        expr: max(queue_depth{queue="orders"}) > 1000
        for: 10m
        labels: {severity: ticket, team: orders}
        annotations:
          summary: "the orders queue holds {{ $value }} messages"
          runbook_url: https://runbooks.example/orders-queue
"""


def generate_history(now: int) -> str:
    """3 days of history ending 15 minutes after `now` (so data stays fresh during the run).

    - http_requests_total{service, code}: counters; checkout's 500s step from 1/s to 5/s
      STEP_CHANGE_AGO before now.
    - queue_depth{queue="orders"}: gauge with a daily cycle between 50 and 150.
    - pod_cpu_usage{pod=...}: POD_COUNT gauges over the last 2 hours (many series).
    """
    start, end = now - 3 * DAY, now + 15 * MINUTE
    requests = MetricFamily("http_requests", "counter", "HTTP requests served")
    rates = {("checkout", "200"): 20.0, ("checkout", "500"): 1.0, ("cart", "200"): 10.0}
    rates[("cart", "500")] = 0.5
    for (service, code), rate in rates.items():
        total, points = 0.0, []
        for ts in range(start, end + 1, MINUTE):
            stepped = service == "checkout" and code == "500" and ts >= now - STEP_CHANGE_AGO
            total += (5.0 if stepped else rate) * MINUTE
            points.append((float(ts), total))
        requests.add({"service": service, "code": code}, points)
    queue = MetricFamily("queue_depth", "gauge", "Messages waiting")
    queue.add(
        {"queue": "orders"},
        (
            (float(ts), 100 + 50 * math.sin(2 * math.pi * ts / DAY))
            for ts in range(start, end + 1, MINUTE)
        ),
    )
    cpu = MetricFamily("pod_cpu_usage", "gauge", "CPU seconds per second")
    for index in range(POD_COUNT):
        cpu.add(
            {"pod": f"web-{index:03d}"},
            ((float(ts), 0.01 * index) for ts in range(now - 2 * HOUR, end + 1, MINUTE)),
        )
    return render_openmetrics([requests, queue, cpu])


@pytest.fixture(scope="session")
def history_now() -> datetime:
    return datetime.fromtimestamp(int(time.time()) // MINUTE * MINUTE, UTC)


@pytest.fixture(scope="session")
def prometheus(history_now: datetime) -> Iterator[PrometheusProcess]:
    history = generate_history(int(history_now.timestamp()))
    with start_prometheus(history=history, rules=[HIGH_ERROR_RULE]) as server:
        yield server


LOG_MAPPINGS = {
    "properties": {
        "@timestamp": {"type": "date"},
        "service": {"properties": {"name": {"type": "keyword"}}},
        "log": {"properties": {"level": {"type": "keyword"}}},
        "message": {
            "type": "text",
            "fields": {"keyword": {"type": "keyword", "ignore_above": 512}},
        },
    }
}
CHECKOUT_DB_ERROR = "connection refused to payments-db:5432"
LOG_WINDOW = timedelta(hours=2)
SPIKE_AGO = timedelta(minutes=30)


def log_doc(at: datetime, service: str, level: str, message: str) -> dict[str, Any]:
    """An ECS-shaped document (nested objects, as Beats and OTel exporters write them)."""
    return {
        "@timestamp": at.isoformat().replace("+00:00", "Z"),
        "service": {"name": service},
        "log": {"level": level},
        "message": message,
    }


def generate_app_logs(now: datetime) -> list[dict[str, Any]]:
    """Two hours of checkout, cart and payments logs before `now`.

    checkout logs CHECKOUT_DB_ERROR every 10 minutes, then 3 times a minute during the last
    SPIKE_AGO; payments writes its level in capitals.
    """
    start = now - LOG_WINDOW
    docs: list[dict[str, Any]] = []
    for second in range(0, int(LOG_WINDOW.total_seconds()), 30):
        at = start + timedelta(seconds=second)
        docs.append(log_doc(at, "checkout", "info", f"order {1000 + second} placed total=42.50"))
        if second % 60 == 0:
            docs.append(log_doc(at, "cart", "info", f"cart c-{second} updated items=3"))
        if second % 120 == 0:
            docs.append(log_doc(at, "payments", "INFO", "payment authorised"))
        if second % 600 == 0:
            docs.append(log_doc(at, "cart", "warn", "timeout calling pricing after 3000ms"))
        in_spike = at >= now - SPIKE_AGO
        if (in_spike or second % 600 == 0) and at < now:
            for offset in (0, 10, 20) if in_spike else (0,):
                when = at + timedelta(seconds=offset)
                docs.append(log_doc(when, "checkout", "error", CHECKOUT_DB_ERROR))
        if in_spike and second % 240 == 0:
            docs.append(log_doc(at, "payments", "ERROR", "card processor returned 503"))
    return docs


def hdfs_logs(now: datetime, count: int = 300) -> list[dict[str, Any]]:
    """Real HDFS DataNode lines (Loghub-2k) spread over the log window."""
    path = SHARED / "data" / "loghub-2k" / "HDFS" / "HDFS_2k.log_structured_corrected.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))[:count]
    spacing = LOG_WINDOW / (count + 1)
    start = now - LOG_WINDOW
    return [
        log_doc(
            start + spacing * (index + 1), "hdfs-datanode", row["Level"].lower(), row["Content"]
        )
        for index, row in enumerate(rows)
    ]


@pytest.fixture(scope="session")
def log_documents(history_now: datetime) -> dict[str, list[dict[str, Any]]]:
    return {"logs-app": generate_app_logs(history_now), "logs-hdfs": hdfs_logs(history_now)}


@pytest.fixture(scope="session")
def opensearch(log_documents: dict[str, list[dict[str, Any]]]) -> Iterator[OpenSearchProcess]:
    with start_opensearch() as server:
        for index, documents in log_documents.items():
            server.create_index(index, LOG_MAPPINGS)
            server.bulk_index(index, documents)
        yield server


JAEGER_FIXTURE = SHARED / "fixtures" / "jaeger" / "ui-trace-example.json"


@pytest.fixture(scope="session")
def jaeger_traces(history_now: datetime) -> dict[str, list[dict[str, Any]]]:
    """A shop's traces in the last 40 minutes: normal, failing in payments, slow payments;
    plus the Jaeger project's edge-case trace (duplicate span ids, foreign references)."""
    end_us = int(history_now.timestamp() * 1_000_000)
    minute_us = 60_000_000
    return {
        "normal": generate_traces(count=10, seed=1, end_us=end_us - 30 * minute_us),
        "errors": generate_traces(
            count=3, seed=2, end_us=end_us - 20 * minute_us, patterns=[ErrorResponses()]
        ),
        "slow": generate_traces(
            count=2, seed=3, end_us=end_us - 10 * minute_us, patterns=[SlowDependency()]
        ),
        "edge_cases": rebase_traces(load_traces(JAEGER_FIXTURE), end_us=end_us - minute_us),
    }


@pytest.fixture(scope="session")
def jaeger(jaeger_traces: dict[str, list[dict[str, Any]]]) -> Iterator[ServerThread]:
    store = TraceStore(trace for batch in jaeger_traces.values() for trace in batch)
    with ServerThread(create_app(store)) as server:
        yield server


OOM_LAST_WORDS = ["allocating report buffer", "java.lang.OutOfMemoryError: Java heap space"]


@pytest.fixture(scope="session")
def kube() -> Iterator[KubeSandbox]:
    """The default cluster after two minutes of trouble: payments is OOM-killed in a loop,
    node-3 stopped reporting, and checkout was rolled out to 1.9.0 with a new LOG_LEVEL and
    a smaller memory limit (revision 3)."""
    with KubeSandbox(auto_advance=False) as sandbox:
        sandbox.cluster.add_fault(
            Fault(kind="oom", namespace="prod", deployment="payments", log_lines=OOM_LAST_WORDS)
        )
        sandbox.cluster.add_fault(Fault(kind="node_not_ready", node="node-3"))
        rollout = {
            "name": "app",
            "image": "registry.example.com/shop/checkout:1.9.0",
            "env": [{"name": "LOG_LEVEL", "value": "debug"}],
            "resources": {"limits": {"memory": "256Mi"}},
        }
        apps = client.AppsV1Api(sandbox.api_client())
        apps.patch_namespaced_deployment(
            "checkout", "prod", {"spec": {"template": {"spec": {"containers": [rollout]}}}}
        )
        sandbox.cluster.advance(120)
        yield sandbox
