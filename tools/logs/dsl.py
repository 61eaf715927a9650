"""Query DSL built by code from typed filters (the model never writes DSL), and the reading
of hits back into records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.config import LogSearchConfig
from tools.timewindow import TimeWindow, iso

Level = Literal["trace", "debug", "info", "warn", "error", "fatal"]
LEVEL_ALIASES: dict[str, tuple[str, ...]] = {
    "trace": ("trace",),
    "debug": ("debug",),
    "info": ("info", "information", "notice"),
    "warn": ("warn", "warning"),
    "error": ("error", "err"),
    "fatal": ("fatal", "critical", "crit", "emerg", "alert", "panic"),
}


@dataclass(frozen=True)
class LogFilter:
    """What to match: a window, optional services and levels, optional free text."""

    window: TimeWindow
    services: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    text: str | None = None


class LogRecord(BaseModel):
    """One log document as code sees it."""

    id: str
    index: str
    timestamp: datetime | None
    service: str | None
    level: str | None
    message: str
    source: dict[str, Any] = Field(description="The whole document.")


def level_variants(levels: Iterable[str]) -> list[str]:
    """Stored spellings of the given levels: aliases in lower, upper and title case."""
    variants: list[str] = []
    for level in levels:
        for alias in LEVEL_ALIASES.get(level.lower(), (level.lower(),)):
            for spelling in (alias, alias.upper(), alias.title()):
                if spelling not in variants:
                    variants.append(spelling)
    return variants


def filter_query(log_filter: LogFilter, config: LogSearchConfig) -> dict[str, Any]:
    window = log_filter.window
    clauses: list[dict[str, Any]] = [
        {
            "range": {
                config.timestamp_field: {
                    "gte": iso(window.start),
                    "lte": iso(window.end),
                    "format": "strict_date_optional_time",
                }
            }
        }
    ]
    if log_filter.services:
        clauses.append({"terms": {config.service_field: list(log_filter.services)}})
    if log_filter.levels:
        clauses.append({"terms": {config.level_field: level_variants(log_filter.levels)}})
    query: dict[str, Any] = {"filter": clauses}
    if log_filter.text:
        query["must"] = [
            {"match": {config.message_field: {"query": log_filter.text, "operator": "and"}}}
        ]
    return {"bool": query}


def search_body(log_filter: LogFilter, config: LogSearchConfig, size: int) -> dict[str, Any]:
    """Newest matching documents first, with an exact total."""
    return {
        "query": filter_query(log_filter, config),
        "size": size,
        "sort": [{config.timestamp_field: {"order": "desc"}}],
        "track_total_hits": True,
    }


def top_messages_body(log_filter: LogFilter, config: LogSearchConfig, size: int) -> dict[str, Any]:
    """Most frequent messages, each with its top services and first/last time seen."""
    return {
        "query": filter_query(log_filter, config),
        "size": 0,
        "track_total_hits": True,
        "aggs": {
            "messages": {
                "terms": {"field": config.message_keyword_field, "size": size},
                "aggs": {
                    "services": {"terms": {"field": config.service_field, "size": 3}},
                    "first_seen": {"min": {"field": config.timestamp_field}},
                    "last_seen": {"max": {"field": config.timestamp_field}},
                },
            }
        },
    }


def histogram_body(
    log_filter: LogFilter, config: LogSearchConfig, interval: timedelta, by_service: bool
) -> dict[str, Any]:
    """Counts per fixed interval over the whole window (empty buckets included)."""
    window = log_filter.window
    histogram: dict[str, Any] = {
        "date_histogram": {
            "field": config.timestamp_field,
            "fixed_interval": f"{int(interval.total_seconds())}s",
            "min_doc_count": 0,
            "extended_bounds": {
                "min": int(window.start.timestamp() * 1000),
                "max": int(window.end.timestamp() * 1000),
            },
        }
    }
    aggs: dict[str, Any] = {"over_time": histogram}
    if by_service:
        aggs["services"] = {
            "terms": {"field": config.service_field, "size": 5},
            "aggs": {"over_time": histogram},
        }
    return {
        "query": filter_query(log_filter, config),
        "size": 0,
        "track_total_hits": True,
        "aggs": aggs,
    }


def field_value(source: Mapping[str, Any], dotted: str) -> Any:
    """A field from a document whether stored flat ("service.name") or nested."""
    if dotted in source:
        return source[dotted]
    head, _, rest = dotted.partition(".")
    inner = source.get(head)
    if rest and isinstance(inner, Mapping):
        return field_value(inner, rest)
    return None


def record_from_hit(hit: Mapping[str, Any], config: LogSearchConfig) -> LogRecord:
    source = dict(hit.get("_source") or {})
    raw_time = field_value(source, config.timestamp_field)
    return LogRecord(
        id=str(hit.get("_id", "")),
        index=str(hit.get("_index", "")),
        timestamp=_parse_time(raw_time),
        service=_text_or_none(field_value(source, config.service_field)),
        level=_text_or_none(field_value(source, config.level_field)),
        message=str(field_value(source, config.message_field) or ""),
        source=source,
    )


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
