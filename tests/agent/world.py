"""The test world the agent and the pattern engine investigate: one incident per corner.

- prod/payments is OOM-killed in a loop (memory limit 512Mi).
- prod/checkout was rolled out to 1.9.0 twenty minutes ago; its 5xx ratio jumped then.
- staging/checkout was rolled out to an image that cannot be pulled.
- staging/payments is CPU-throttled (cAdvisor CFS counters).
- data/orders logs HikariPool connection timeouts (pool exhaustion).
- billing's volume ledger-data is filling up (kubelet volume stats).
- edge/gateway logs expired-certificate handshake errors.
- checkout's traces are slow in payments (a slow dependency).
- a separate, empty cluster has node-3 NotReady.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sandbox.jaeger import SlowDependency, generate_traces
from sandbox.kube import read_seed
from sandbox.kube.seed import DEFAULT_SEED
from sandbox.procs import MetricFamily, render_openmetrics

MINUTE = 60
HOUR = 3600
ROLLOUT_AGO = timedelta(minutes=20)
OOM_LAST_WORDS = ["allocating report buffer", "java.lang.OutOfMemoryError: Java heap space"]
BAD_IMAGE = "registry.example.com/shop/checkout:2.0.0-broken"
POOL_ERROR = "HikariPool-1 - Connection is not available, request timed out after 30000ms."
CERT_ERROR = "x509: certificate has expired or is not yet valid: current time is after expiry"
LOG_MAPPINGS = {
    "properties": {
        "@timestamp": {"type": "date"},
        "service": {"properties": {"name": {"type": "keyword"}}},
        "log": {"properties": {"level": {"type": "keyword"}}},
        "message": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
    }
}


def cluster_seed() -> dict[str, Any]:
    seed = read_seed(DEFAULT_SEED)
    seed["namespaces"] = [*seed["namespaces"], {"name": "data"}, {"name": "billing"}]
    seed["deployments"] = [
        *seed["deployments"],
        {
            "name": "orders",
            "namespace": "data",
            "replicas": 2,
            "containers": [
                {
                    "name": "app",
                    "image": "registry.example.com/shop/orders:4.1.0",
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                }
            ],
        },
    ]
    seed["faults"] = [
        {"kind": "oom", "namespace": "prod", "deployment": "payments", "log_lines": OOM_LAST_WORDS},
        {"kind": "bad_image", "image": BAD_IMAGE},
    ]
    return seed


def node_seed() -> dict[str, Any]:
    return {
        "nodes": [{"name": f"node-{i}", "cpu": "4", "memory": "16Gi"} for i in (1, 2, 3)],
        "faults": [{"kind": "node_not_ready", "node": "node-3"}],
    }


def metric_history(now: datetime) -> str:
    end = int(now.timestamp()) + 15 * MINUTE
    start = int(now.timestamp()) - 3 * HOUR
    rollout = int((now - ROLLOUT_AGO).timestamp())
    grid = range(start, end + 1, MINUTE)

    requests = MetricFamily("http_requests", "counter", "HTTP requests served")
    for code, before, after in (("200", 20.0, 20.0), ("500", 0.2, 4.0)):
        total, points = 0.0, []
        for ts in grid:
            total += (after if ts >= rollout else before) * MINUTE
            points.append((float(ts), total))
        requests.add({"service": "checkout", "namespace": "prod", "code": code}, points)

    periods = MetricFamily("container_cpu_cfs_periods", "counter", "CFS periods")
    throttled = MetricFamily("container_cpu_cfs_throttled_periods", "counter", "Throttled")
    labels = {"namespace": "staging", "pod": "payments-6c9f7d-x2x9k", "container": "app"}
    periods.add(labels, ((float(ts), 10.0 * (ts - start)) for ts in grid))
    throttled.add(labels, ((float(ts), 6.0 * (ts - start)) for ts in grid))

    capacity = MetricFamily("kubelet_volume_stats_capacity_bytes", "gauge", "Capacity")
    available = MetricFamily("kubelet_volume_stats_available_bytes", "gauge", "Available")
    volume = {"namespace": "billing", "persistentvolumeclaim": "ledger-data"}
    size = 10 * 2**30
    capacity.add(volume, ((float(ts), float(size)) for ts in grid))
    available.add(
        volume,
        ((float(ts), size * (0.40 - 0.32 * (ts - start) / (end - start))) for ts in grid),
    )
    queue = MetricFamily("queue_depth", "gauge", "Messages waiting")
    queue.add({"queue": "orders"}, ((float(ts), 100 + 5 * math.sin(ts / HOUR)) for ts in grid))
    return render_openmetrics([requests, periods, throttled, capacity, available, queue])


def log_doc(at: datetime, service: str, level: str, message: str) -> dict[str, Any]:
    return {
        "@timestamp": at.isoformat().replace("+00:00", "Z"),
        "service": {"name": service},
        "log": {"level": level},
        "message": message,
    }


def app_logs(now: datetime) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for second in range(0, 3600, 20):
        at = now - timedelta(seconds=3600 - second)
        docs.append(log_doc(at, "checkout", "info", f"order {second} placed"))
        docs.append(log_doc(at, "orders", "info", "GET /orders 200"))
        if second >= 1800:
            docs.append(log_doc(at, "orders", "error", POOL_ERROR))
            docs.append(log_doc(at, "gateway", "error", CERT_ERROR))
        if second % 300 == 0:
            docs.append(
                log_doc(
                    at, "checkout", "error", "payment failed for alice@example.com from 10.1.2.3"
                )
            )
    return docs


def traces(now: datetime) -> list[dict[str, Any]]:
    end_us = int(now.timestamp() * 1_000_000)
    return generate_traces(count=8, seed=5, end_us=end_us - 60_000_000, patterns=[SlowDependency()])
