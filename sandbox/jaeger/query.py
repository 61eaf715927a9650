"""Parse `GET /api/traces` parameters the way Jaeger's query service does.

Facts carried over from Jaeger (cmd/query/app/query_parser.go): parameters are read in the
order start, end, tag/tags, limit, minDuration, maxDuration, traceID, so the first bad one
names the error; `start` defaults to now minus the query lookback (2 days), `end` to now;
`limit` defaults to 100 and 0 means unlimited; `lookback` is a UI concern the server ignores
(the UI turns it into start/end); `service` is required unless trace ids are given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.jaeger.go_parsing import (
    GoParseError,
    TraceKey,
    parse_go_duration,
    parse_go_int,
    parse_trace_id,
)

DEFAULT_LIMIT = 100
DEFAULT_LOOKBACK_US = 2 * 24 * 3600 * 1_000_000
SERVICE_REQUIRED = "parameter 'service' is required"


class QueryError(ValueError):
    """A query Jaeger answers with 400; `str(error)` is Jaeger's message."""


@dataclass(frozen=True)
class TraceQuery:
    """A trace search: every criterion must hold on one and the same span."""

    service: str
    operation: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    start_min_us: int = 0
    start_max_us: int = 0
    duration_min_ns: int = 0
    duration_max_ns: int = 0
    limit: int = DEFAULT_LIMIT
    trace_ids: tuple[TraceKey, ...] = ()


def first(params: Mapping[str, Sequence[str]], name: str) -> str:
    """Go's FormValue: the first value, or the empty string."""
    values = params.get(name) or []
    return values[0] if values else ""


def parse_trace_query(
    params: Mapping[str, Sequence[str]],
    *,
    now_us: int,
    lookback_us: int = DEFAULT_LOOKBACK_US,
) -> TraceQuery:
    start = _parse_time(params, "start", default=now_us - lookback_us)
    end = _parse_time(params, "end", default=now_us)
    tags = parse_tags(params.get("tag") or [], params.get("tags") or [])
    limit_text = first(params, "limit")
    try:
        limit = parse_go_int(limit_text, bits=32) if limit_text else DEFAULT_LIMIT
    except GoParseError as err:
        raise QueryError(str(err)) from err
    duration_min = _parse_duration(params, "minDuration")
    duration_max = _parse_duration(params, "maxDuration")
    trace_ids: list[TraceKey] = []
    for raw in params.get("traceID") or []:
        try:
            trace_ids.append(parse_trace_id(raw))
        except GoParseError as err:
            raise QueryError(f"cannot parse traceID param: {err}") from err
    service = first(params, "service")
    if not trace_ids and not service:
        raise QueryError(SERVICE_REQUIRED)
    if duration_min and duration_max and duration_max < duration_min:
        raise QueryError("'maxDuration' should be greater than 'minDuration'")
    return TraceQuery(
        service=service,
        operation=first(params, "operation"),
        tags=tags,
        start_min_us=start,
        start_max_us=end,
        duration_min_ns=duration_min,
        duration_max_ns=duration_max,
        limit=limit,
        trace_ids=tuple(trace_ids),
    )


def parse_tags(simple_tags: Sequence[str], json_tags: Sequence[str]) -> dict[str, str]:
    """`tag=key:value` (repeatable) and `tags={"key":"value"}` merged into one map."""
    merged: dict[str, str] = {}
    for tag in simple_tags:
        key, sep, value = tag.partition(":")
        if not sep:
            raise QueryError(f"malformed 'tag' parameter, expecting key:value, received: {tag}")
        merged[key] = value
    for raw in json_tags:
        merged.update(_json_string_map(raw))
    return merged


def _json_string_map(raw: str) -> dict[str, str]:
    prefix = "malformed 'tags' parameter, cannot unmarshal JSON: "
    try:
        decoded: Any = json.loads(raw)
    except json.JSONDecodeError as err:
        raise QueryError(prefix + _go_json_syntax_error(raw, err)) from err
    if decoded is None:
        return {}
    if not isinstance(decoded, dict):
        raise QueryError(
            prefix + f"json: cannot unmarshal {_go_json_kind(decoded)} "
            "into Go value of type map[string]string"
        )
    result: dict[str, str] = {}
    for key, value in decoded.items():
        if value is None:
            result[key] = ""
        elif isinstance(value, str):
            result[key] = value
        else:
            raise QueryError(
                prefix
                + f"json: cannot unmarshal {_go_json_kind(value)} into Go value of type string"
            )
    return result


def _go_json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _go_json_syntax_error(raw: str, err: json.JSONDecodeError) -> str:
    if err.pos >= len(raw):
        return "unexpected end of JSON input"
    char = raw[err.pos]
    where = "looking for beginning of value" if err.pos == 0 else "in JSON value"
    return f"invalid character {char!r} {where}"


def _parse_time(params: Mapping[str, Sequence[str]], name: str, *, default: int) -> int:
    text = first(params, name)
    if not text:
        return default
    try:
        return parse_go_int(text)
    except GoParseError as err:
        raise QueryError(f"unable to parse param '{name}': {err}") from err


def _parse_duration(params: Mapping[str, Sequence[str]], name: str) -> int:
    text = first(params, name)
    if not text:
        return 0
    try:
        return parse_go_duration(text)
    except GoParseError as err:
        raise QueryError(f"unable to parse param '{name}': {err}") from err
