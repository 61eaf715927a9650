"""Text for the model from trace summaries: one line per trace, or one trace in detail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.budget import shorten
from tools.traces.summary import SpanSummary, TraceSummary, span_tree

MAX_ERROR_LINES = 5


def _ms(value: float) -> str:
    return f"{value:.1f}ms" if value < 1000 else f"{value / 1000:.2f}s"


def _span(span: SpanSummary) -> str:
    status = f" ({span.status_code})" if span.status_code else ""
    return f"{span.service} {span.operation}{status}"


def describe_trace(trace: TraceSummary) -> str:
    """One line: id, root, duration, size, errors, slowest span, first error message."""
    line = (
        f"- {trace.trace_id} {trace.root_service} {trace.root_operation}: "
        f"{_ms(trace.duration_ms)}, {trace.span_count} spans, {trace.error_count} error spans"
    )
    if trace.slowest:
        top = trace.slowest[0]
        line += f"; slowest {_span(top)} {_ms(top.self_ms)} self"
    origin = next((s for s in trace.errors if s.error_message), None)
    if origin is not None:
        line += f"; error at {_span(origin)}: {shorten(origin.error_message or '', 160)}"
    return line


def detail_lines(raw: Mapping[str, Any], trace: TraceSummary) -> tuple[str, list[str]]:
    """A header and the lines under it: errors, slowest spans, then the span tree."""
    header = (
        f"Trace {trace.trace_id}: {trace.root_service} {trace.root_operation}, "
        f"{_ms(trace.duration_ms)}, {trace.span_count} spans across {len(trace.services)} "
        f"services ({', '.join(trace.services)}), {trace.error_count} error spans."
    )
    if trace.warnings:
        header += f" Warnings: {shorten('; '.join(trace.warnings), 200)}."
    lines: list[str] = []
    if trace.errors:
        lines.append("Error spans, deepest (likely origin) first:")
        for span in trace.errors[:MAX_ERROR_LINES]:
            message = f": {shorten(span.error_message, 200)}" if span.error_message else ""
            lines.append(f"- {_span(span)} {_ms(span.duration_ms)}{message}")
        if len(trace.errors) > MAX_ERROR_LINES:
            lines.append(f"- ... and {len(trace.errors) - MAX_ERROR_LINES} more error spans")
    lines.append("Slowest spans by self time:")
    lines.extend(
        f"- {_span(s)} {_ms(s.self_ms)} self of {_ms(s.duration_ms)}" for s in trace.slowest
    )
    lines.append("Span tree (start offset, duration):")
    origin = trace.start.timestamp()
    for span in span_tree(raw):
        offset = (span.start.timestamp() - origin) * 1000
        flag = " ERROR" if span.error else ""
        lines.append(
            f"{'  ' * span.depth}{_span(span)} +{_ms(offset)} {_ms(span.duration_ms)}{flag}"
        )
    return header, lines
