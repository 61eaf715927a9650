"""Jaeger tools: services and operations, trace search, one trace in detail."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, Field

from tools.base import ArgsT, Evidence, Tool, ToolArgs, ToolResult, utc_now
from tools.budget import fit_items, shorten
from tools.config import JaegerConfig
from tools.timewindow import (
    Duration,
    TimeWindowArgs,
    format_duration,
    parse_duration,
    require_span_at_most,
)
from tools.traces.api import JaegerApi
from tools.traces.links import search_url, trace_url
from tools.traces.render import describe_trace, detail_lines
from tools.traces.summary import TraceSummary, summarise_trace


class ServicesData(BaseModel):
    """Structured result of jaeger_services."""

    service: str | None = Field(description="Set when operations of this service were listed.")
    names: list[str]


class TraceSearchData(BaseModel):
    """Structured result of jaeger_find_traces."""

    traces: list[TraceSummary] = Field(description="Slowest first.")
    p50_ms: float | None = None
    p95_ms: float | None = None
    with_errors: int = 0


class ServicesArgs(ToolArgs):
    service: str | None = Field(
        None, max_length=200, description="List this service's operations instead of services."
    )


class FindTracesArgs(TimeWindowArgs):
    service: str = Field(min_length=1, max_length=200, description="Service that emitted spans.")
    operation: str | None = Field(None, max_length=300, description="Only this operation.")
    tags: dict[str, str] = Field(
        default_factory=dict,
        description='Span tags that must match, e.g. {"http.status_code": "500"}.',
    )
    errors_only: bool = Field(False, description="Only traces with a span tagged error=true.")
    min_duration: Duration | None = Field(
        None, description="Only traces at least this long: 500ms, 2s."
    )
    max_duration: Duration | None = Field(None, description="Only traces at most this long.")
    limit: int = Field(
        10, ge=1, le=100, description="Most traces (at most the cap in the tool description)."
    )


class GetTraceArgs(ToolArgs):
    trace_id: str = Field(
        pattern=r"^[0-9a-fA-F]{1,32}$", description="Trace id in hex, as jaeger_find_traces gives."
    )


class JaegerTool(Tool[ArgsT]):
    def __init__(
        self,
        config: JaegerConfig,
        *,
        api: JaegerApi | None = None,
        clock: Callable[[], datetime] = utc_now,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.api = api or JaegerApi(config, transport=transport)
        self.clock = clock

    @property
    def ui_url(self) -> str:
        return self.config.ui_url or self.config.url

    def close(self) -> None:
        self.api.close()


class JaegerServicesTool(JaegerTool[ServicesArgs]):
    name = "jaeger_services"
    description = (
        "List the services Jaeger has traces for, or the operations of one service; use the "
        "exact names in jaeger_find_traces."
    )
    args_model = ServicesArgs

    def caps(self) -> str:
        return f"about {self.config.output.max_tokens} tokens of output, the rest counted"

    def execute(self, args: ServicesArgs) -> ToolResult:
        if args.service:
            names = sorted(self.api.operations(args.service))
            what, query = (
                f"operations of {args.service}",
                f"GET /api/services/{args.service}/operations",
            )
        else:
            names = sorted(self.api.services())
            what, query = "services", "GET /api/services"
        data = ServicesData(service=args.service, names=names)
        link = search_url(self.ui_url, {"service": args.service} if args.service else {})
        if not names:
            content = f"No data: Jaeger knows no {what}."
            evidence = Evidence(tool=self.name, query=query, link=link, excerpt="no data")
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        content, left_out = fit_items(
            f"{len(names)} {what}:",
            [f"- {n}" for n in names],
            self.config.output.max_chars,
            lambda n: f"... and {n} more.",
        )
        evidence = Evidence(
            tool=self.name, query=query, link=link, excerpt=shorten(", ".join(names), 300)
        )
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )


class JaegerFindTracesTool(JaegerTool[FindTracesArgs]):
    name = "jaeger_find_traces"
    description = (
        "Search traces of a service in a time window, optionally by operation, span tags, "
        "errors only and duration; summarises each (duration, spans, error spans, slowest "
        "span) slowest first, with p50/p95."
    )
    args_model = FindTracesArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"at most {c.max_traces} traces; window at most {format_duration(c.max_window)}; "
            f"{c.slowest_spans} slowest spans per trace; about {c.output.max_tokens} tokens"
        )

    def execute(self, args: FindTracesArgs) -> ToolResult:
        window = args.window(self.clock())
        require_span_at_most(window, self.config.max_window, "Search a shorter window.")
        params = self._params(args, window.start, window.end)
        traces = [
            summarise_trace(t, self.config.slowest_spans) for t in self.api.find_traces(params)
        ]
        for trace in traces:
            trace.link = trace_url(self.ui_url, trace.trace_id)
        traces.sort(key=lambda t: -t.duration_ms)
        durations = sorted(t.duration_ms for t in traces)
        data = TraceSearchData(
            traces=traces,
            p50_ms=statistics.median(durations) if durations else None,
            p95_ms=durations[min(len(durations) - 1, int(0.95 * len(durations)))]
            if durations
            else None,
            with_errors=sum(1 for t in traces if t.error_count),
        )
        query = "GET /api/traces?" + urlencode(params)
        link = search_url(self.ui_url, params)
        operation = f" {args.operation}" if args.operation else ""
        scope = f"of {args.service}{operation} from {window.describe()}"
        if not traces:
            content = (
                f"No data: no traces {scope} match. Check names with jaeger_services or "
                "widen the window."
            )
            evidence = Evidence(tool=self.name, query=query, link=link, excerpt="no data")
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        header = (
            f"{len(traces)} traces {scope} (limit {params['limit']}), slowest first; "
            f"p50 {data.p50_ms:.1f}ms, p95 {data.p95_ms:.1f}ms, {data.with_errors} with errors:"
        )
        content, left_out = fit_items(
            header,
            [describe_trace(t) for t in traces],
            self.config.output.max_chars,
            lambda n: f"... and {n} more traces left out; use jaeger_get_trace for one in detail.",
        )
        evidence = Evidence(tool=self.name, query=query, link=link, excerpt=shorten(header, 300))
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )

    def _params(self, args: FindTracesArgs, start: datetime, end: datetime) -> dict[str, str]:
        params = {
            "service": args.service,
            "start": str(micros(start)),
            "end": str(micros(end)),
            "limit": str(min(args.limit, self.config.max_traces)),
        }
        if args.operation:
            params["operation"] = args.operation
        tags = dict(args.tags)
        if args.errors_only:
            tags["error"] = "true"
        if tags:
            params["tags"] = json.dumps(tags, separators=(",", ":"))
        if args.min_duration:
            params["minDuration"] = _go_duration(parse_duration(args.min_duration))
        if args.max_duration:
            params["maxDuration"] = _go_duration(parse_duration(args.max_duration))
        return params


class JaegerGetTraceTool(JaegerTool[GetTraceArgs]):
    name = "jaeger_get_trace"
    description = (
        "Fetch one trace by id and summarise it: duration, services, error spans with their "
        "messages (deepest first, the likely origin), slowest spans by self time, span tree."
    )
    args_model = GetTraceArgs

    def caps(self) -> str:
        c = self.config
        return f"{c.slowest_spans} slowest spans; about {c.output.max_tokens} tokens"

    def execute(self, args: GetTraceArgs) -> ToolResult:
        raw = self.api.get_trace(args.trace_id.lower())
        summary = summarise_trace(raw, self.config.slowest_spans)
        summary.link = trace_url(self.ui_url, summary.trace_id)
        header, lines = detail_lines(raw, summary)
        content, left_out = fit_items(
            header,
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more lines of the span tree left out.",
        )
        evidence = Evidence(
            tool=self.name,
            query=f"GET /api/traces/{args.trace_id.lower()}",
            link=summary.link,
            excerpt=shorten(header, 300),
        )
        return ToolResult.success(
            self.name, content, data=summary, evidence=[evidence], truncated=left_out > 0
        )


def micros(moment: datetime) -> int:
    """A moment in Unix microseconds, the unit of Jaeger's query parameters."""
    return int(moment.timestamp() * 1_000_000)


def _go_duration(span: timedelta) -> str:
    """A Go time.ParseDuration string (Go has no day unit): whole microseconds."""
    return f"{int(span / timedelta(microseconds=1))}us"
