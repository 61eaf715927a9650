"""Who calls a service and whom it calls, per edge: calls, errors and latency, measured on
the callee's spans of sampled traces. An edge is a span whose parent span belongs to
another service (caller -> callee); its latency is the callee span's duration, and the
call failed when the callee span or the caller's span waiting for it is marked as an error.

Two samples are read: the newest traces of the window (calls, error rate, latency) and the
newest failing ones (where failures sit, however rare they are in the first sample)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from tools.base import Evidence, ToolResult
from tools.budget import fit_items, shorten
from tools.timewindow import TimeWindowArgs, format_duration, require_span_at_most
from tools.traces.links import search_url
from tools.traces.summary import span_tree
from tools.traces.tools import JaegerTool, micros

MAX_EDGES = 30


class EdgeStats(BaseModel):
    caller: str
    callee: str
    calls: int
    errors: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    failing_calls: int = Field(0, description="Failed calls of this edge in the failing traces.")

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


class ServiceGraphData(BaseModel):
    """Structured result of service_graph."""

    service: str
    traces: int
    failing_traces: int
    callers: list[EdgeStats] = Field(description="Edges into the service.")
    callees: list[EdgeStats] = Field(description="Edges out of the service.")
    further: list[EdgeStats] = Field(description="Other edges of the same traces.")


class ServiceGraphArgs(TimeWindowArgs):
    service: str = Field(min_length=1, max_length=200, description="The service at the centre.")


@dataclass
class _Edge:
    durations: list[float] = field(default_factory=list)
    errors: int = 0


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _edges(traces: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], _Edge]:
    edges: dict[tuple[str, str], _Edge] = {}
    for trace in traces:
        spans = span_tree(trace)
        by_id = {span.span_id: span for span in spans}
        for span in spans:
            parent = by_id.get(span.parent_id or "")
            if parent is None or parent.service == span.service:
                continue
            edge = edges.setdefault((parent.service, span.service), _Edge())
            edge.durations.append(span.duration_ms)
            edge.errors += span.error or parent.error
    return edges


def edge_stats(
    traces: Iterable[Mapping[str, Any]], failing: Iterable[Mapping[str, Any]] = ()
) -> list[EdgeStats]:
    """Per (caller, callee): calls, errors, p50/p95/max of the callee spans in `traces`, and
    the failed calls in the `failing` traces; edges with failures first, then busiest."""
    edges = _edges(traces)
    failed = {key: edge.errors for key, edge in _edges(failing).items() if edge.errors}
    for key in failed:
        edges.setdefault(key, _Edge())
    found = []
    for (caller, callee), edge in edges.items():
        ordered = sorted(edge.durations) or [0.0]
        found.append(
            EdgeStats(
                caller=caller,
                callee=callee,
                calls=len(edge.durations),
                errors=edge.errors,
                failing_calls=failed.get((caller, callee), 0),
                p50_ms=round(statistics.median(ordered), 3),
                p95_ms=round(_percentile(ordered, 0.95), 3),
                max_ms=round(ordered[-1], 3),
            )
        )
    return sorted(found, key=lambda e: (-e.failing_calls, -e.errors, -e.calls, e.caller, e.callee))


def describe_edge(edge: EdgeStats) -> str:
    line = f"- {edge.caller} -> {edge.callee}: "
    if edge.calls:
        line += (
            f"{edge.calls} calls, {edge.errors} errors ({edge.error_rate:.0%}), p50 "
            f"{edge.p50_ms:.1f}ms, p95 {edge.p95_ms:.1f}ms, max {edge.max_ms:.1f}ms"
        )
    else:
        line += "not in the newest traces"
    if edge.failing_calls:
        line += f"; {edge.failing_calls} failed calls in the failing traces"
    return line


class ServiceGraphTool(JaegerTool[ServiceGraphArgs]):
    name = "service_graph"
    description = (
        "The call graph around a service from sampled traces: its callers and its callees, "
        "and the edges further down, each with calls, errors (and rate) and p50/p95/max "
        "latency of the called side. Use it to follow errors or latency to the service "
        "where they start."
    )
    args_model = ServiceGraphArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"built from at most {c.max_traces} newest and {c.max_traces} failing traces; "
            f"window at most {format_duration(c.max_window)}; at most {MAX_EDGES} edges; about "
            f"{c.output.max_tokens} tokens"
        )

    def execute(self, args: ServiceGraphArgs) -> ToolResult:
        window = args.window(self.clock())
        require_span_at_most(window, self.config.max_window, "Use a shorter window.")
        params = {
            "service": args.service,
            "start": str(micros(window.start)),
            "end": str(micros(window.end)),
            "limit": str(self.config.max_traces),
        }
        traces = self.api.find_traces(params)
        failing_params = {**params, "tags": '{"error":"true"}'}
        failing = self.api.find_traces(failing_params)
        edges = edge_stats(traces, failing)[:MAX_EDGES]
        data = ServiceGraphData(
            service=args.service,
            traces=len(traces),
            failing_traces=len(failing),
            callers=[e for e in edges if e.callee == args.service],
            callees=[e for e in edges if e.caller == args.service],
            further=[e for e in edges if args.service not in (e.caller, e.callee)],
        )
        query = f"GET /api/traces?{urlencode(params)} and ?{urlencode(failing_params)}"
        link = search_url(self.ui_url, params)
        scope = (
            f"{args.service} from the newest {len(traces)} traces and {len(failing)} failing "
            f"traces, {window.describe()}"
        )
        if not edges:
            content = (
                f"No data: no calls between services in the traces of {scope}. Check the name "
                "with jaeger_services or widen the window."
            )
            evidence = Evidence(tool=self.name, query=query, link=link, excerpt="no data")
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        lines = [f"Callers of {args.service}:"]
        lines += [describe_edge(e) for e in data.callers] or ["- (none seen)"]
        lines.append(f"Called by {args.service}:")
        lines += [describe_edge(e) for e in data.callees] or ["- (none seen)"]
        if data.further:
            lines.append("Further edges in the same traces:")
            lines += [describe_edge(e) for e in data.further]
        content, left_out = fit_items(
            f"Service graph around {scope}; errors first:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more edges left out.",
        )
        excerpt = shorten(" | ".join(describe_edge(e) for e in edges[:2]), 300)
        evidence = Evidence(tool=self.name, query=query, link=link, excerpt=excerpt)
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )
