"""An in-memory trace store with the search semantics of Jaeger's memory backend.

Traces are kept in Jaeger's JSON (UI) model exactly as supplied, edge cases included
(duplicate span ids, references to spans outside the trace, FOLLOWS_FROM, warnings): the
sandbox serves them raw, without Jaeger's read-time adjusters. Spans of a trace id seen
twice are merged into one trace, as the real store does when spans arrive in pieces.
"""

from __future__ import annotations

import base64
import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.jaeger.go_parsing import GoParseError, TraceKey, parse_trace_id
from sandbox.jaeger.query import TraceQuery

Json = dict[str, Any]


class TraceDataError(ValueError):
    """Trace data that is not in Jaeger's JSON model."""


class TraceStore:
    """Thread-safe: tests add traces while the server thread reads them."""

    def __init__(self, traces: Iterable[Mapping[str, Any]] = ()) -> None:
        self._lock = threading.Lock()
        self._traces: dict[TraceKey, Json] = {}
        for trace in traces:
            self.add(trace)

    def add(self, trace: Mapping[str, Any]) -> None:
        key = trace_key(trace)
        incoming = copy.deepcopy(dict(trace))
        _check_spans(incoming)
        with self._lock:
            existing = self._traces.get(key)
            if existing is None:
                self._traces[key] = incoming
            else:
                _merge_into(existing, incoming)

    def clear(self) -> None:
        with self._lock:
            self._traces.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._traces)

    def services(self) -> list[str]:
        with self._lock:
            names = {
                span_service(trace, span)
                for trace in self._traces.values()
                for span in trace["spans"]
            }
        return sorted(names)

    def operations(self, service: str, span_kind: str = "") -> list[tuple[str, str]]:
        """Distinct (operation name, span kind) pairs of a service, optionally one kind only."""
        found: set[tuple[str, str]] = set()
        with self._lock:
            for trace in self._traces.values():
                for span in trace["spans"]:
                    if span_service(trace, span) != service:
                        continue
                    kind = span_kind_of(span)
                    if not span_kind or span_kind == kind:
                        found.add((str(span.get("operationName", "")), kind))
        return sorted(found)

    def get(self, key: TraceKey) -> Json | None:
        with self._lock:
            trace = self._traces.get(key)
            return copy.deepcopy(trace) if trace is not None else None

    def lookup(self, trace_id: str) -> Json | None:
        """The trace with this id in any spelling (leading zeros, 16 or 32 digits)."""
        try:
            return self.get(parse_trace_id(trace_id))
        except GoParseError:
            return None

    def find(self, query: TraceQuery) -> list[Json]:
        """Matching traces, oldest first; beyond `limit` only the newest are kept."""
        with self._lock:
            matches = [
                copy.deepcopy(trace)
                for trace in self._traces.values()
                if any(span_matches(trace, span, query) for span in trace["spans"])
            ]
        matches.sort(key=_first_span_start)
        if query.limit > 0 and len(matches) > query.limit:
            matches = matches[len(matches) - query.limit :]
        return matches


def trace_key(trace: Mapping[str, Any]) -> TraceKey:
    raw = trace.get("traceID")
    if not isinstance(raw, str):
        raise TraceDataError("trace without a string traceID")
    try:
        return parse_trace_id(raw)
    except GoParseError as err:
        raise TraceDataError(f"bad traceID {raw!r}: {err}") from err


def span_service(trace: Mapping[str, Any], span: Mapping[str, Any]) -> str:
    process = span_process(trace, span)
    return str(process.get("serviceName", ""))


def span_process(trace: Mapping[str, Any], span: Mapping[str, Any]) -> Mapping[str, Any]:
    embedded = span.get("process")
    if isinstance(embedded, Mapping):
        return embedded
    processes = trace.get("processes") or {}
    found = processes.get(span.get("processID", ""))
    return found if isinstance(found, Mapping) else {}


def span_kind_of(span: Mapping[str, Any]) -> str:
    for tag in span.get("tags") or []:
        if tag.get("key") == "span.kind":
            return tag_as_string(tag)
    return ""


def tag_as_string(tag: Mapping[str, Any]) -> str:
    """KeyValue.AsString: how Jaeger compares a tag with a searched value."""
    value = tag.get("value")
    kind = tag.get("type", "string")
    if kind == "bool" or isinstance(value, bool):
        return "true" if value else "false"
    if kind == "int64":
        return str(int(value)) if value is not None else "0"
    if kind == "float64":
        return _go_float(float(value)) if value is not None else "0"
    if kind == "binary":
        return base64.b64decode(str(value or "")).hex()
    return "" if value is None else str(value)


def _go_float(value: float) -> str:
    """strconv.FormatFloat(v, 'g', 10, 64); Python's %g writes the same digits."""
    return f"{value:.10g}"


def span_matches(trace: Mapping[str, Any], span: Mapping[str, Any], query: TraceQuery) -> bool:
    """Jaeger's memory store `validSpan`: service, operation, duration, time and tags at once."""
    duration_ns = int(span.get("duration", 0)) * 1000
    start = int(span.get("startTime", 0))
    checks = (
        span_service(trace, span) == query.service,
        not query.operation or span.get("operationName") == query.operation,
        not query.duration_min_ns or duration_ns >= query.duration_min_ns,
        not query.duration_max_ns or duration_ns <= query.duration_max_ns,
        not query.start_min_us or start >= query.start_min_us,
        not query.start_max_us or start <= query.start_max_us,
    )
    if not all(checks):
        return False
    if not query.tags:
        return True
    searchable = _searchable_tags(trace, span)
    return all((key, value) in searchable for key, value in query.tags.items())


def _searchable_tags(trace: Mapping[str, Any], span: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Span tags, process tags and log fields, as Jaeger's memory store flattens them."""
    tags = list(span.get("tags") or [])
    tags.extend(span_process(trace, span).get("tags") or [])
    for log in span.get("logs") or []:
        tags.extend(log.get("fields") or [])
    return {(str(tag.get("key")), tag_as_string(tag)) for tag in tags}


def _first_span_start(trace: Mapping[str, Any]) -> int:
    spans = trace["spans"]
    return int(spans[0].get("startTime", 0)) if spans else 0


def _check_spans(trace: Json) -> None:
    spans = trace.get("spans")
    if not isinstance(spans, list):
        raise TraceDataError(f"trace {trace.get('traceID')} has no spans list")
    for span in spans:
        if not isinstance(span, dict) or "spanID" not in span:
            raise TraceDataError(f"trace {trace.get('traceID')} holds a span without spanID")


def _merge_into(existing: Json, incoming: Json) -> None:
    """Append the incoming spans, re-keying process ids that would collide."""
    processes: dict[str, Any] = existing.setdefault("processes", {})
    renamed: dict[str, str] = {}
    for pid, process in (incoming.get("processes") or {}).items():
        same = next((k for k, p in processes.items() if p == process), None)
        if same is None:
            same, number = pid, len(processes) + 1
            while same in processes:
                same, number = f"p{number}", number + 1
            processes[same] = process
        renamed[pid] = same
    for span in incoming["spans"]:
        if "processID" in span:
            span["processID"] = renamed.get(span["processID"], span["processID"])
        existing["spans"].append(span)
    if incoming.get("warnings"):
        existing["warnings"] = list(existing.get("warnings") or []) + incoming["warnings"]
