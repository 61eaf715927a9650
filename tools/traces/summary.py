"""Pure summaries of traces in Jaeger's JSON model: durations, errors, slowest spans.

Real traces are messy: span ids repeat, references point outside the trace, FOLLOWS_FROM
links appear, clocks skew. A span's parent is its first CHILD_OF reference to a span present
in the same trace; anything else is a root.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

ERROR_MESSAGE_TAGS = ("otel.status_description", "error.message", "exception.message")
ERROR_LOG_FIELDS = ("message", "error.object", "exception.message", "event")


class SpanSummary(BaseModel):
    span_id: str
    parent_id: str | None
    service: str
    operation: str
    start: datetime
    duration_ms: float
    self_ms: float = Field(description="Duration not covered by child spans.")
    depth: int
    error: bool
    status_code: str | None = Field(None, description="http.status_code when present.")
    error_message: str | None = None
    waits_on: str | None = Field(
        None,
        description="For a client span with no child span (a call into something untraced, "
        "such as a database): the peer it waits on (peer.service, else net.peer.name, else "
        "db.system). Its self time is that peer's time, not the caller's.",
    )


class TraceSummary(BaseModel):
    trace_id: str
    root_service: str
    root_operation: str
    start: datetime
    duration_ms: float
    span_count: int
    services: list[str]
    error_count: int
    slowest: list[SpanSummary] = Field(description="Highest self time first.")
    errors: list[SpanSummary] = Field(description="Deepest first: the likely origin leads.")
    warnings: list[str] = Field(default_factory=list)
    link: str | None = None


def tag_map(items: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    return {str(tag.get("key")): tag.get("value") for tag in items or []}


def is_error(tags: Mapping[str, Any]) -> bool:
    flag = tags.get("error")
    if flag is True or str(flag).lower() == "true":
        return True
    if str(tags.get("otel.status_code", "")).upper() == "ERROR":
        return True
    try:
        return int(tags.get("http.status_code", 0)) >= 500
    except (TypeError, ValueError):
        return False


def error_message(tags: Mapping[str, Any], logs: Sequence[Mapping[str, Any]] | None) -> str | None:
    for key in ERROR_MESSAGE_TAGS:
        if tags.get(key):
            return str(tags[key])
    for log in logs or []:
        fields = tag_map(log.get("fields"))
        for key in ERROR_LOG_FIELDS:
            if fields.get(key) and fields.get(key) != "error":
                return str(fields[key])
    return None


def span_tree(trace: Mapping[str, Any]) -> list[SpanSummary]:
    """Every span with parent, depth and self time, in depth-first order from the roots."""
    spans: list[Mapping[str, Any]] = list(trace.get("spans") or [])
    processes: Mapping[str, Any] = trace.get("processes") or {}
    first_index: dict[str, int] = {}
    for index, span in enumerate(spans):
        first_index.setdefault(str(span.get("spanID")), index)
    parents = [_parent_index(span, trace, first_index, index) for index, span in enumerate(spans)]
    children: dict[int, list[int]] = {}
    for index, parent in enumerate(parents):
        if parent is not None:
            children.setdefault(parent, []).append(index)
    ordered: list[SpanSummary] = []
    visited: set[int] = set()
    roots = [i for i, parent in enumerate(parents) if parent is None]
    stack = [(i, 0) for i in sorted(roots, key=lambda i: _start(spans[i]), reverse=True)]
    while stack:
        index, depth = stack.pop()
        if index in visited:
            continue
        visited.add(index)
        kids = sorted(children.get(index, []), key=lambda i: _start(spans[i]))
        ordered.append(_summary(spans[index], processes, parents[index], spans, depth, kids))
        stack.extend((kid, depth + 1) for kid in reversed(kids))
    return ordered


def summarise_trace(trace: Mapping[str, Any], slowest: int = 5) -> TraceSummary:
    tree = span_tree(trace)
    if not tree:
        return TraceSummary(
            trace_id=str(trace.get("traceID", "")),
            root_service="?",
            root_operation="?",
            start=datetime.fromtimestamp(0, UTC),
            duration_ms=0,
            span_count=0,
            services=[],
            error_count=0,
            slowest=[],
            errors=[],
        )
    start = min(s.start for s in tree)
    end = max(s.start.timestamp() + s.duration_ms / 1000 for s in tree)
    root = min((s for s in tree if s.depth == 0), key=lambda s: s.start)
    errors = sorted((s for s in tree if s.error), key=lambda s: -s.depth)
    warnings = [str(w) for w in trace.get("warnings") or []]
    return TraceSummary(
        trace_id=str(trace.get("traceID", "")),
        root_service=root.service,
        root_operation=root.operation,
        start=start,
        duration_ms=round((end - start.timestamp()) * 1000, 3),
        span_count=len(tree),
        services=sorted({s.service for s in tree}),
        error_count=len(errors),
        slowest=sorted(tree, key=lambda s: -s.self_ms)[:slowest],
        errors=errors,
        warnings=warnings,
    )


def _parent_index(
    span: Mapping[str, Any], trace: Mapping[str, Any], first_index: dict[str, int], own: int
) -> int | None:
    trace_id = str(trace.get("traceID", span.get("traceID", "")))
    for ref in span.get("references") or []:
        if ref.get("refType") != "CHILD_OF" or str(ref.get("traceID", trace_id)) != trace_id:
            continue
        parent = first_index.get(str(ref.get("spanID")))
        if parent is not None and parent != own:
            return parent
    return None


def _start(span: Mapping[str, Any]) -> int:
    return int(span.get("startTime", 0))


def _summary(
    span: Mapping[str, Any],
    processes: Mapping[str, Any],
    parent: int | None,
    spans: Sequence[Mapping[str, Any]],
    depth: int,
    kids: Sequence[int],
) -> SpanSummary:
    tags = tag_map(span.get("tags"))
    process = processes.get(str(span.get("processID")), {}) or {}
    service = str(process.get("serviceName") or span.get("process", {}).get("serviceName", "?"))
    duration_us = int(span.get("duration", 0))
    status = tags.get("http.status_code")
    return SpanSummary(
        span_id=str(span.get("spanID", "")),
        parent_id=str(spans[parent].get("spanID")) if parent is not None else None,
        service=service,
        operation=str(span.get("operationName", "")),
        start=datetime.fromtimestamp(_start(span) / 1_000_000, UTC),
        duration_ms=duration_us / 1000,
        self_ms=_self_us(span, [spans[k] for k in kids]) / 1000,
        depth=depth,
        error=is_error(tags),
        status_code=None if status is None else str(status),
        error_message=error_message(tags, span.get("logs")),
        waits_on=None if kids else waited_peer(tags),
    )


def waited_peer(tags: Mapping[str, Any]) -> str | None:
    """The untraced peer a leaf client span measures, from OpenTelemetry's tags."""
    if str(tags.get("span.kind", "")) != "client":
        return None
    for key in ("peer.service", "net.peer.name", "db.system"):
        value = tags.get(key)
        if value:
            return str(value)[:200]
    return None


def _self_us(span: Mapping[str, Any], kids: Sequence[Mapping[str, Any]]) -> int:
    """Duration minus the union of the children's intervals, clipped to the span."""
    begin = _start(span)
    end = begin + int(span.get("duration", 0))
    intervals = sorted(
        (max(begin, _start(k)), min(end, _start(k) + int(k.get("duration", 0)))) for k in kids
    )
    covered, cursor = 0, begin
    for lo, hi in intervals:
        clipped = max(lo, cursor)
        if hi > clipped:
            covered += hi - clipped
            cursor = hi
    return max(0, end - begin - covered)
