"""Error logs grouped: the most frequent messages, and counts over time."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from tools.base import ToolResult
from tools.budget import fit_items, shorten
from tools.logs.base import LogFilterArgs, LogTool, describe_filter, log_filter, total_hits
from tools.logs.dsl import histogram_body, top_messages_body
from tools.timewindow import format_duration, iso, nice_interval

SPIKE_FACTOR = 3.0
SPIKE_MIN_COUNT = 5


class MessageGroup(BaseModel):
    message: str
    count: int
    services: dict[str, int] = Field(description="Top services logging it, with counts.")
    first_seen: datetime | None
    last_seen: datetime | None


class TopErrorsData(BaseModel):
    """Structured result of log_top_errors."""

    total_errors: int
    groups: list[MessageGroup] = Field(description="Most frequent first.")
    other_count: int = Field(description="Error lines whose message is not in groups.")


class HistogramBucket(BaseModel):
    start: datetime
    count: int


class ErrorHistogramData(BaseModel):
    """Structured result of log_error_histogram."""

    interval_seconds: float
    total: int
    buckets: list[HistogramBucket]
    by_service: dict[str, list[int]] = Field(
        default_factory=dict, description="Per-service counts aligned with buckets."
    )
    baseline: float = Field(description="Median count per bucket.")
    peak: HistogramBucket | None = None
    spike_start: datetime | None = Field(
        None, description="First bucket above 3x the baseline (and at least 5)."
    )


class TopErrorsArgs(LogFilterArgs):
    limit: int = Field(10, ge=1, le=100, description="How many distinct messages to return.")


class ErrorHistogramArgs(LogFilterArgs):
    by_service: bool = Field(False, description="Also count per service (top 5 services).")


class TopErrorsTool(LogTool[TopErrorsArgs]):
    name = "log_top_errors"
    description = (
        "Group error and fatal log lines in a time window by exact message and return the "
        "most frequent ones with counts, top services and first/last time seen."
    )
    args_model = TopErrorsArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"at most {c.max_terms} messages; window at most {format_duration(c.max_window)}; "
            f"about {c.output.max_tokens} tokens"
        )

    def execute(self, args: TopErrorsArgs) -> ToolResult:
        chosen = log_filter(args, self.clock(), self.config, self.config.error_levels)
        body = top_messages_body(chosen, self.config, min(args.limit, self.config.max_terms))
        response = self.search(body)
        aggregation = response.get("aggregations", {}).get("messages", {})
        groups = [_group(bucket) for bucket in aggregation.get("buckets", [])]
        data = TopErrorsData(
            total_errors=total_hits(response),
            groups=groups,
            other_count=int(aggregation.get("sum_other_doc_count", 0)),
        )
        scope = describe_filter(chosen)
        if not groups:
            content = f"No data: no error lines{scope}."
            evidence = self.evidence(body, chosen, "no data")
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        lines = [self._line(group) for group in groups]
        footer = f"{data.other_count} other error lines." if data.other_count else ""
        content, left_out = fit_items(
            f"{data.total_errors} error lines{scope}; most frequent messages:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more messages left out to save space.",
            footer,
        )
        evidence = self.evidence(body, chosen, lines[0])
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )

    def _line(self, group: MessageGroup) -> str:
        services = ", ".join(f"{name} {count}" for name, count in group.services.items())
        seen = ""
        if group.first_seen and group.last_seen:
            seen = f"; {iso(group.first_seen)} to {iso(group.last_seen)}"
        message = shorten(group.message, self.config.message_chars)
        return f"- {group.count}x {message} ({services or 'no service'}{seen})"


class ErrorHistogramTool(LogTool[ErrorHistogramArgs]):
    name = "log_error_histogram"
    description = (
        "Count error and fatal log lines per interval over a time window, optionally per "
        "service, and point out the peak and when a spike began."
    )
    args_model = ErrorHistogramArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"about {c.histogram_buckets} buckets; at most {c.max_terms} services; window at "
            f"most {format_duration(c.max_window)}; about {c.output.max_tokens} tokens"
        )

    def execute(self, args: ErrorHistogramArgs) -> ToolResult:
        chosen = log_filter(args, self.clock(), self.config, self.config.error_levels)
        interval = nice_interval(
            chosen.window.span, self.config.histogram_buckets, timedelta(seconds=1)
        )
        body = histogram_body(chosen, self.config, interval, args.by_service)
        response = self.search(body)
        aggregations = response.get("aggregations", {})
        buckets = _buckets(aggregations.get("over_time", {}))
        by_service = {
            str(entry["key"]): [b.count for b in _buckets(entry.get("over_time", {}))]
            for entry in aggregations.get("services", {}).get("buckets", [])
        }
        data = _histogram_data(interval, total_hits(response), buckets, by_service)
        scope = describe_filter(chosen)
        if data.total == 0:
            content = f"No data: no error lines{scope}."
            evidence = self.evidence(body, chosen, "no data")
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        header = _histogram_header(data, format_duration(interval), scope)
        long_window = chosen.window.span > timedelta(days=1)
        pattern = "%m-%d %H:%M" if long_window else "%H:%M"
        lines = ["counts: " + " ".join(f"{b.start.strftime(pattern)}={b.count}" for b in buckets)]
        lines += [f"{name}: " + " ".join(map(str, counts)) for name, counts in by_service.items()]
        content, left_out = fit_items(
            header,
            lines,
            self.config.output.max_chars,
            lambda n: f"... {n} more lines left out; narrow the window for detail.",
        )
        evidence = self.evidence(body, chosen, header)
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )


def _group(bucket: dict[str, Any]) -> MessageGroup:
    services = {
        str(entry["key"]): int(entry["doc_count"])
        for entry in bucket.get("services", {}).get("buckets", [])
    }
    return MessageGroup(
        message=str(bucket["key"]),
        count=int(bucket["doc_count"]),
        services=services,
        first_seen=_epoch_ms(bucket.get("first_seen", {}).get("value")),
        last_seen=_epoch_ms(bucket.get("last_seen", {}).get("value")),
    )


def _epoch_ms(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(float(value) / 1000, UTC)


def _buckets(aggregation: dict[str, Any]) -> list[HistogramBucket]:
    return [
        HistogramBucket(
            start=datetime.fromtimestamp(b["key"] / 1000, UTC), count=int(b["doc_count"])
        )
        for b in aggregation.get("buckets", [])
    ]


def _histogram_data(
    interval: timedelta,
    total: int,
    buckets: list[HistogramBucket],
    by_service: dict[str, list[int]],
) -> ErrorHistogramData:
    counts = [b.count for b in buckets]
    baseline = statistics.median(counts) if counts else 0.0
    peak = max(buckets, key=lambda b: b.count) if buckets else None
    threshold = max(SPIKE_FACTOR * baseline, SPIKE_MIN_COUNT)
    spike = next((b.start for b in buckets if b.count >= threshold), None)
    return ErrorHistogramData(
        interval_seconds=interval.total_seconds(),
        total=total,
        buckets=buckets,
        by_service=by_service,
        baseline=baseline,
        peak=peak,
        spike_start=spike,
    )


def _histogram_header(data: ErrorHistogramData, interval: str, scope: str) -> str:
    header = f"Error lines per {interval}{scope}: total {data.total}"
    if data.peak is not None:
        header += f", peak {data.peak.count} at {iso(data.peak.start)}"
    header += f", median {data.baseline:g} per bucket"
    if data.spike_start is not None:
        header += f"; the spike began at {iso(data.spike_start)}"
    return header + "."
