"""Typed results of trace analysis. Times are microseconds, shares are 0..1."""

from __future__ import annotations

from pydantic import BaseModel


class SpanRef(BaseModel):
    span_id: str
    service: str
    operation: str


class PathSegment(BaseModel):
    """A stretch of the critical path spent in one span's own code (not in a child)."""

    span: SpanRef
    start_us: int
    end_us: int

    @property
    def duration_us(self) -> int:
        return self.end_us - self.start_us


class TimeShare(BaseModel):
    service: str
    operation: str | None = None  # None: the whole service
    time_us: int
    share: float


class Bottleneck(BaseModel):
    """Where the critical path spends most of its own time."""

    span: SpanRef
    span_time_us: int
    span_share: float
    service: str
    service_time_us: int
    service_share: float


class NPlusOne(BaseModel):
    parent: SpanRef
    service: str
    operation: str
    statement: str | None  # normalised db statement, when the spans carry one
    count: int
    total_us: int
    sequential_ratio: float  # share of consecutive repeats that do not overlap


class SequentialCalls(BaseModel):
    """Sibling calls to different services made one after another."""

    parent: SpanRef
    calls: list[SpanRef]
    targets: list[str]
    total_us: int  # first start to last end
    parallel_us: int  # the longest call: the floor if they ran side by side
    saving_us: int


class ErrorSpan(BaseModel):
    span: SpanRef
    reasons: list[str]  # "error tag", "otel.status_code=ERROR", "http.status_code=503"
    message: str | None


class TraceAnalysis(BaseModel):
    trace_id: str
    duration_us: int
    span_count: int
    services: list[str]
    critical_path: list[PathSegment]
    self_time_by_service: list[TimeShare]
    self_time_by_operation: list[TimeShare]
    bottleneck: Bottleneck | None
    n_plus_one: list[NPlusOne]
    sequential_calls: list[SequentialCalls]
    errors: list[ErrorSpan]
    warnings: list[str]


class OperationStats(BaseModel):
    service: str
    operation: str
    count: int
    p50_us: float
    p95_us: float
    p99_us: float
    max_us: int


class SlowTraceSummary(BaseModel):
    trace_count: int
    slow_threshold_us: int
    slow_trace_ids: list[str]
    operations: list[OperationStats]  # every operation, slowest p95 first
    dominant_in_slow: list[TimeShare]  # critical-path self time across the slow traces
