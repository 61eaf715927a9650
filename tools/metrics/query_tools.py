"""PromQL instant and range queries, summarised per series."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.base import Evidence, ToolArgs, ToolResult
from tools.metrics.base import NO_DATA_HINT, PrometheusTool, excerpt_of
from tools.metrics.links import graph_url, table_url
from tools.metrics.series import (
    SeriesSummary,
    parse_value,
    points_for,
    series_name,
    top_series,
)
from tools.timewindow import (
    Duration,
    Instant,
    TimeWindowArgs,
    format_duration,
    iso,
    nice_interval,
    parse_duration,
    parse_instant,
    require_span_at_most,
)
from tools.units import format_quantity, unit_of

PromQL = Field(min_length=1, max_length=4000, description="A PromQL expression.")


class InstantSample(BaseModel):
    labels: dict[str, str]
    value: float


class InstantQueryData(BaseModel):
    """Structured result of prometheus_query."""

    query: str
    time: datetime
    result_type: Literal["vector", "matrix", "scalar", "string"]
    total_series: int = 0
    samples: list[InstantSample] = Field(default_factory=list, description="Vector, by value.")
    series: list[SeriesSummary] = Field(default_factory=list, description="Matrix, by peak.")
    scalar: float | None = None
    string: str | None = None


class RangeQueryData(BaseModel):
    """Structured result of prometheus_range_query."""

    query: str
    start: datetime
    end: datetime
    step_seconds: float
    requested_step_seconds: float | None = Field(
        None, description="Set when the requested step was replaced by an automatic one."
    )
    total_series: int
    series: list[SeriesSummary] = Field(description="At most max_series, highest peak first.")


class InstantQueryArgs(ToolArgs):
    query: str = PromQL
    time: Instant | None = Field(
        None, description="Evaluation time: now-1h, RFC 3339 or Unix seconds. Omit for now."
    )


class RangeQueryArgs(TimeWindowArgs):
    query: str = PromQL
    step: Duration | None = Field(
        None,
        description="Resolution such as 30s or 5m. Omit for an automatic step (about 250 "
        "points); steps giving too many points are replaced by the automatic one.",
    )


class PrometheusQueryTool(PrometheusTool[InstantQueryArgs]):
    name = "prometheus_query"
    description = (
        "Evaluate a PromQL expression at one instant (current values, e.g. "
        'sum by (service) (rate(http_requests_total{code=~"5.."}[5m]))). Use '
        "prometheus_range_query to see how a value changed over time."
    )
    args_model = InstantQueryArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"at most {c.shown_series} series described, highest value first, the rest "
            f"counted; over {c.max_response_series:,} series refused; about "
            f"{c.output.max_tokens} tokens of output"
        )

    def execute(self, args: InstantQueryArgs) -> ToolResult:
        now = self.clock()
        at = parse_instant(args.time, now) if args.time else now
        evidence_link = table_url(self.ui_url, args.query, at=at)
        data = self.attempt(args.query, evidence_link, lambda: self.api.query(args.query, at))
        result_type = data.get("resultType", "vector")
        parsed = InstantQueryData(query=args.query, time=at, result_type=result_type)
        header = f"Instant query `{args.query}` at {iso(at)}"
        result: Any = data.get("result")
        if result_type in ("scalar", "string"):
            if result_type == "scalar":
                parsed.scalar = parse_value(result[1])
            else:
                parsed.string = str(result[1])
            content = f"{header}: {result_type} {result[1]}"
            truncated = False
        elif not result:
            content = f"No data: {header} returned no series. {NO_DATA_HINT}"
            evidence = Evidence(
                tool=self.name, query=args.query, link=evidence_link, excerpt="no data"
            )
            return ToolResult.empty(self.name, content, data=parsed, evidence=[evidence])
        elif result_type == "matrix":
            self.require_series_at_most(len(result))
            parsed.total_series = len(result)
            parsed.series = top_series(result, self.config.max_series)
            content, truncated = self.render_series(
                f"{header}: {len(result)} series (range vector)", parsed.series, len(result)
            )
        else:
            samples = [
                InstantSample(labels=item["metric"], value=parse_value(item["value"][1]))
                for item in result
            ]
            samples.sort(key=lambda s: -s.value if s.value == s.value else float("inf"))
            parsed.total_series = len(samples)
            parsed.samples = samples[: self.config.max_series]
            content, truncated = self._render_vector(header, samples)
        evidence = Evidence(
            tool=self.name, query=args.query, link=evidence_link, excerpt=excerpt_of(content)
        )
        return ToolResult.success(
            self.name, content, data=parsed, evidence=[evidence], truncated=truncated
        )

    def _render_vector(self, header: str, samples: list[InstantSample]) -> tuple[str, bool]:
        lines = [
            f"- {series_name(s.labels)}: "
            f"{format_quantity(s.value, unit_of(s.labels.get('__name__', '')))}"
            for s in samples[: self.config.shown_series]
        ]
        return self.render_lines(
            f"{header}: {len(samples)} series", lines, len(samples), "highest value first"
        )


class PrometheusRangeQueryTool(PrometheusTool[RangeQueryArgs]):
    name = "prometheus_range_query"
    description = (
        "Evaluate a PromQL expression over a time window and summarise each series (last, "
        "min, avg, max, trend, step changes). Use it to see when a metric changed, e.g. "
        "rate(http_requests_total[5m]) over the last 6h. The step is automatic unless "
        "given."
    )
    args_model = RangeQueryArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"window at most {format_duration(c.max_range)}; about {c.target_points} points "
            f"per series (step at least {format_duration(c.min_step)}); at most "
            f"{c.shown_series} series described, highest peak first; over "
            f"{c.max_response_series:,} series refused; about {c.output.max_tokens} tokens"
        )

    def execute(self, args: RangeQueryArgs) -> ToolResult:
        window = args.window(self.clock())
        require_span_at_most(
            window,
            self.config.max_range,
            "Shorten lookback or move start later; for long-term behaviour use prometheus_query "
            "with a range function such as max_over_time(...[30d]).",
        )
        step, requested = self._step(window.span, args.step)
        link = graph_url(self.ui_url, args.query, end=window.end, span=window.span, step=step)
        data = self.attempt(
            args.query,
            link,
            lambda: self.api.query_range(args.query, window.start, window.end, step),
        )
        result = data.get("result") or []
        header = (
            f"Range query `{args.query}` from {window.describe()}, step {format_duration(step)}"
        )
        if requested is not None:
            header += (
                f" (the requested step {format_duration(requested)} would give "
                f"{points_for(window.span, requested):,} points per series; "
                "used the automatic step)"
            )
        self.require_series_at_most(len(result))
        ranked = top_series(result, self.config.max_series)
        parsed = RangeQueryData(
            query=args.query,
            start=window.start,
            end=window.end,
            step_seconds=step.total_seconds(),
            requested_step_seconds=requested.total_seconds() if requested else None,
            total_series=len(result),
            series=ranked,
        )
        if not result:
            content = f"No data: {header} returned no series. {NO_DATA_HINT}"
            evidence = Evidence(tool=self.name, query=args.query, link=link, excerpt="no data")
            return ToolResult.empty(self.name, content, data=parsed, evidence=[evidence])
        content, truncated = self.render_series(
            f"{header}: {len(result)} series", ranked, len(result)
        )
        evidence = Evidence(
            tool=self.name, query=args.query, link=link, excerpt=excerpt_of(content)
        )
        return ToolResult.success(
            self.name, content, data=parsed, evidence=[evidence], truncated=truncated
        )

    def _step(self, span: timedelta, wanted: str | None) -> tuple[timedelta, timedelta | None]:
        """The step to use and, when the requested one was replaced, the requested step."""
        automatic = nice_interval(span, self.config.target_points, self.config.min_step)
        if wanted is None:
            return automatic, None
        requested = max(parse_duration(wanted), self.config.min_step)
        if points_for(span, requested) > self.config.max_points_per_series:
            return automatic, parse_duration(wanted)
        return requested, None
