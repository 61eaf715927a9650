"""Jaeger's UI/query JSON model of a trace (what ``GET /api/traces/{id}`` returns in ``data``).

Times are microseconds since the epoch, durations microseconds. Parsing is lenient where
Jaeger is: ``references``, ``tags``, ``logs`` and ``warnings`` may be missing or null.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _JaegerModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class KeyValue(_JaegerModel):
    key: str
    type: str = "string"
    value: Any = None


class SpanLog(_JaegerModel):
    timestamp: int
    fields: list[KeyValue] = Field(default_factory=list)

    @field_validator("fields", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value


class Reference(_JaegerModel):
    ref_type: str = Field(alias="refType")
    trace_id: str = Field(alias="traceID")
    span_id: str = Field(alias="spanID")


class Span(_JaegerModel):
    trace_id: str = Field(alias="traceID")
    span_id: str = Field(alias="spanID")
    operation_name: str = Field(alias="operationName")
    references: list[Reference] = Field(default_factory=list)
    start_time: int = Field(alias="startTime")
    duration: int
    tags: list[KeyValue] = Field(default_factory=list)
    logs: list[SpanLog] = Field(default_factory=list)
    process_id: str = Field(default="", alias="processID")
    warnings: list[str] = Field(default_factory=list)

    @field_validator("references", "tags", "logs", "warnings", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    def tag(self, key: str) -> Any:
        """The value of the first tag called ``key``, or None."""
        return next((t.value for t in self.tags if t.key == key), None)


class Process(_JaegerModel):
    service_name: str = Field(alias="serviceName")
    tags: list[KeyValue] = Field(default_factory=list)

    @field_validator("tags", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value


class Trace(_JaegerModel):
    trace_id: str = Field(alias="traceID")
    spans: list[Span] = Field(default_factory=list)
    processes: dict[str, Process] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    @field_validator("spans", "warnings", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("processes", mode="before")
    @classmethod
    def _none_is_empty_map(cls, value: object) -> object:
        return {} if value is None else value


def parse_trace(payload: dict[str, Any]) -> Trace:
    """One trace: either the trace object or a ``{"data": [trace]}`` API envelope."""
    data = payload.get("data")
    if isinstance(data, list):
        if len(data) != 1:
            raise ValueError(f"expected one trace in the envelope, got {len(data)}")
        return Trace.model_validate(data[0])
    return Trace.model_validate(payload)
