"""What every log tool shares: the client, the clock, typed filters and evidence."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from pydantic import Field

from tools.base import ArgsT, Evidence, Tool, utc_now
from tools.budget import shorten
from tools.config import LogSearchConfig
from tools.logs.client import build_search_client, search_failure
from tools.logs.dsl import LogFilter
from tools.logs.links import discover_url
from tools.timewindow import TimeWindowArgs, require_span_at_most


class LogFilterArgs(TimeWindowArgs):
    service: str | None = Field(
        None, max_length=200, description="Only logs of this service (exact name)."
    )
    text: str | None = Field(
        None,
        max_length=500,
        description="Only messages containing all these words, e.g. 'connection refused'.",
    )


def log_filter(
    args: LogFilterArgs, now: datetime, config: LogSearchConfig, levels: tuple[str, ...] = ()
) -> LogFilter:
    window = args.window(now)
    require_span_at_most(
        window,
        config.max_window,
        "Shorten lookback or move start later; use log_error_histogram to find when errors "
        "began, then search the minutes around that time.",
    )
    services = (args.service,) if args.service else ()
    return LogFilter(window=window, services=services, levels=levels, text=args.text or None)


class LogTool(Tool[ArgsT]):
    """Base of the log tools; several tools may share one client."""

    def __init__(
        self,
        config: LogSearchConfig,
        *,
        client: Elasticsearch | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.client = client or build_search_client(config)
        self.clock = clock

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """One _search over the configured index pattern; errors become ToolFailure."""
        try:
            response = self.client.search(index=self.config.index_pattern, **body)
        except (ApiError, TransportError) as exc:
            raise search_failure(exc, self.config) from None
        return dict(response.body)

    def evidence(self, body: dict[str, Any], log_filter: LogFilter, excerpt: str) -> Evidence:
        return Evidence(
            tool=self.name,
            query=json.dumps(body, separators=(",", ":")),
            link=discover_url(log_filter, self.config),
            excerpt=shorten(excerpt, 300),
        )

    def close(self) -> None:
        self.client.close()


def total_hits(response: dict[str, Any]) -> int:
    total = response.get("hits", {}).get("total", 0)
    return int(total.get("value", 0) if isinstance(total, dict) else total)


def describe_filter(log_filter: LogFilter) -> str:
    parts = []
    if log_filter.services:
        parts.append(f"service {', '.join(log_filter.services)}")
    if log_filter.levels:
        parts.append(f"level {'/'.join(log_filter.levels)}")
    if log_filter.text:
        parts.append(f"text {log_filter.text!r}")
    scope = f" ({'; '.join(parts)})" if parts else ""
    return f"{scope} from {log_filter.window.describe()}"
