"""A shared real Prometheus with the backfilled capacity history (one per session)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

# A fixed `now` (a Wednesday morning): the history, and every forecast, are reproducible.
CAPACITY_NOW = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)


def instant(url: str, query: str, at: datetime = CAPACITY_NOW) -> dict[str, float]:
    """{series label summary: value} of an instant query."""
    response = httpx.get(f"{url}/api/v1/query", params={"query": query, "time": at.timestamp()})
    response.raise_for_status()
    out: dict[str, float] = {}
    for row in response.json()["data"]["result"]:
        metric = row["metric"]
        key = "/".join(metric[k] for k in sorted(metric) if k != "__name__")
        out[key] = float(row["value"][1])
    return out
