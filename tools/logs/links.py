"""Kibana (or OpenSearch Dashboards) Discover links for a log filter, in KQL and rison."""

from __future__ import annotations

from urllib.parse import quote

from tools.config import LogSearchConfig
from tools.logs.dsl import LogFilter, level_variants
from tools.timewindow import iso


def rison_string(text: str) -> str:
    """A rison string literal: single quotes, with ! and ' escaped by !."""
    return "'" + text.replace("!", "!!").replace("'", "!'") + "'"


def kql_phrase(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def kql(log_filter: LogFilter, config: LogSearchConfig) -> str:
    """The filter in Kibana Query Language (the time range travels separately)."""
    parts: list[str] = []
    if log_filter.services:
        values = " or ".join(kql_phrase(s) for s in log_filter.services)
        parts.append(f"{config.service_field}:({values})")
    if log_filter.levels:
        values = " or ".join(kql_phrase(v) for v in level_variants(log_filter.levels))
        parts.append(f"{config.level_field}:({values})")
    if log_filter.text:
        words = " and ".join(kql_phrase(word) for word in log_filter.text.split())
        parts.append(f"{config.message_field}:({words})")
    return " and ".join(parts)


def discover_url(log_filter: LogFilter, config: LogSearchConfig) -> str | None:
    """The Discover view of the same search, or None without a configured Kibana."""
    if not config.kibana_url:
        return None
    window = log_filter.window
    global_state = (
        f"(time:(from:{rison_string(iso(window.start))},to:{rison_string(iso(window.end))}))"
    )
    app_state = f"query:(language:kuery,query:{rison_string(kql(log_filter, config))})"
    if config.kibana_data_view:
        app_state = f"index:{rison_string(config.kibana_data_view)},{app_state}"
    safe = "(),:!'*"
    return (
        f"{config.kibana_url.rstrip('/')}/app/discover#/"
        f"?_g={quote(global_state, safe=safe)}&_a={quote('(' + app_state + ')', safe=safe)}"
    )
