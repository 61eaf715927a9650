"""Data for the digest tests: seven hours of shop logs with a spike and a new template in
the last hour, and a week of shop traces with a slow payments, an N+1 in inventory and a
few failing charges."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.jaeger import ErrorResponses, NPlusOneQueries, SlowDependency, generate_traces

LOG_INDEX = "logs-shop"
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
SPIKE = "connection refused to payments-db:5432 after 3 retries"
NEW_TEMPLATE = "retrying charge for order {order} after 503 from card processor"
BASELINE_HOURS = 6


def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def log_doc(at: datetime, service: str, level: str, message: str) -> dict[str, Any]:
    return {
        "@timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "service": {"name": service},
        "log": {"level": level},
        "message": message,
    }


def shop_logs(end: datetime) -> list[dict[str, Any]]:
    """BASELINE_HOURS + 1 hours before `end`: steady traffic, a steady error in cart and a
    rare one in checkout; in the last hour checkout's error bursts (3 a minute) and payments
    logs a template never seen before, plus one failed login."""
    rng = random.Random(7)
    start = end - timedelta(hours=BASELINE_HOURS + 1)
    last_hour = end - timedelta(hours=1)
    docs: list[dict[str, Any]] = []
    for second in range(0, (BASELINE_HOURS + 1) * 3600, 30):
        at = start + timedelta(seconds=second)
        order = rng.randint(10_000, 99_999)
        docs.append(
            log_doc(at, "checkout", "info", f"order {order} placed total={rng.randint(5, 400)}.50")
        )
        docs.append(log_doc(at, "cart", "info", f"cart c-{rng.randint(1, 9999)} updated items=3"))
        if second % 120 == 0:
            docs.append(
                log_doc(at, "payments", "INFO", f"payment authorised in {rng.randint(80, 300)}ms")
            )
        if second % 600 == 0:
            docs.append(log_doc(at, "cart", "warn", "timeout calling pricing after 3000ms"))
            docs.append(log_doc(at, "cart", "error", f"pricing answered 502 for sku SKU-{order}"))
        if second % 1800 == 0:
            docs.append(log_doc(at, "checkout", "error", SPIKE))
        if at >= last_hour:
            for offset in (0, 10, 20):
                when = at + timedelta(seconds=offset)
                if second % 60 == 0:
                    docs.append(log_doc(when, "checkout", "error", SPIKE))
            if second % 90 == 0:
                text = NEW_TEMPLATE.format(order=f"ord-{rng.getrandbits(32):08x}")
                docs.append(log_doc(at, "payments", "WARN", text))
    docs.append(
        log_doc(end - timedelta(minutes=7), "auth", "info", "authentication failed for user bob")
    )
    return docs


def shop_traces(end: datetime) -> list[dict[str, Any]]:
    """Normal checkouts over two days, then slow payments, an N+1 in inventory, and errors."""
    end_us = int(end.timestamp() * 1_000_000)
    hour_us = 3_600_000_000
    return [
        *generate_traces(count=30, seed=11, end_us=end_us - 6 * hour_us, interval_us=hour_us),
        *generate_traces(
            count=6, seed=12, end_us=end_us - 3 * hour_us, patterns=[SlowDependency()]
        ),
        *generate_traces(
            count=8, seed=13, end_us=end_us - 2 * hour_us, patterns=[NPlusOneQueries(repeat=40)]
        ),
        *generate_traces(count=3, seed=14, end_us=end_us - hour_us, patterns=[ErrorResponses()]),
    ]
