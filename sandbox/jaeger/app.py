"""Jaeger's HTTP query API (the `/api/*` endpoints the Jaeger UI uses) over a `TraceStore`.

Shapes follow Jaeger's cmd/query/app/http_handler.go: every answer is the envelope
`{"data", "total", "limit", "offset", "errors"}`; `total` is only filled for services and
operations (trace answers carry 0, as Jaeger's do); errors come back through Go's
`http.Error`, so with a `text/plain` content type and a trailing newline.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sandbox.jaeger.go_parsing import GoParseError, format_trace_id, parse_go_int, parse_trace_id
from sandbox.jaeger.loading import traces_in_document
from sandbox.jaeger.query import (
    DEFAULT_LOOKBACK_US,
    SERVICE_REQUIRED,
    QueryError,
    parse_trace_query,
)
from sandbox.jaeger.store import TraceDataError, TraceStore

TRACE_NOT_FOUND = "trace not found"


def wall_clock_us() -> int:
    return time.time_ns() // 1000


def envelope(
    data: Any, *, total: int = 0, errors: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "data": data,
        "total": total,
        "limit": 0,
        "offset": 0,
        "errors": list(errors) if errors else None,
    }


def go_json(document: Any, *, pretty: bool = False) -> str:
    """JSON as Go's encoding/json writes it: compact, with <, > and & escaped."""
    if pretty:
        text = json.dumps(document, ensure_ascii=False, indent="    ")
    else:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def create_app(
    store: TraceStore,
    *,
    now_us: Callable[[], int] = wall_clock_us,
    lookback_us: int = DEFAULT_LOOKBACK_US,
) -> Starlette:
    """A Starlette app answering like jaeger-query; `now_us` sets the default search window."""

    def ok(request: Request, document: Any) -> Response:
        pretty_value = request.query_params.get("prettyPrint", "")
        pretty = pretty_value not in ("", "false")
        return Response(go_json(document, pretty=pretty), media_type="application/json")

    def failed(status: int, message: str) -> Response:
        body = go_json(envelope(None, errors=[{"code": status, "msg": message}])) + "\n"
        return PlainTextResponse(
            body, status_code=status, headers={"X-Content-Type-Options": "nosniff"}
        )

    async def services(request: Request) -> Response:
        names = store.services()
        return ok(request, envelope(names or None, total=len(names)))

    async def service_operations(request: Request) -> Response:
        service = unquote(request.path_params["service"])
        names = sorted({name for name, _ in store.operations(service)})
        return ok(request, envelope(names or None, total=len(names)))

    async def operations(request: Request) -> Response:
        service = request.query_params.get("service", "")
        if not service:
            return failed(400, SERVICE_REQUIRED)
        found = store.operations(service, request.query_params.get("spanKind", ""))
        data = [{"name": name, "spanKind": kind} for name, kind in found]
        return ok(request, envelope(data, total=len(data)))

    async def search(request: Request) -> Response:
        params = _multi_params(request)
        try:
            query = parse_trace_query(params, now_us=now_us(), lookback_us=lookback_us)
        except QueryError as err:
            return failed(400, str(err))
        if not query.trace_ids:
            return ok(request, envelope(store.find(query)))
        traces, missing = [], []
        for key in query.trace_ids:
            trace = store.get(key)
            if trace is None:
                missing.append({"msg": TRACE_NOT_FOUND, "traceID": format_trace_id(key)})
            else:
                traces.append(trace)
        return ok(request, envelope(traces, errors=missing))

    async def get_trace(request: Request) -> Response:
        try:
            key = parse_trace_id(request.path_params["trace_id"])
            for name in ("start", "end"):
                if value := request.query_params.get(name):
                    _parse_micros(name, value)
        except GoParseError as err:
            return failed(400, str(err))
        trace = store.get(key)
        if trace is None:
            return failed(404, TRACE_NOT_FOUND)
        return ok(request, envelope([trace]))

    async def add_traces(request: Request) -> Response:
        """Sandbox control (not Jaeger): load traces posted in any `load_traces` layout."""
        try:
            traces = traces_in_document(json.loads(await request.body()), "request body")
            for trace in traces:
                store.add(trace)
        except (ValueError, TraceDataError) as err:
            return PlainTextResponse(str(err), status_code=400)
        return Response(
            go_json({"added": len(traces), "traces": len(store)}), media_type="application/json"
        )

    async def clear_traces(request: Request) -> Response:
        store.clear()
        return Response(go_json({"traces": 0}), media_type="application/json")

    async def not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            return PlainTextResponse("", status_code=405)
        return PlainTextResponse("404 page not found\n", status_code=404)

    routes = [
        Route("/api/services", services, methods=["GET"]),
        Route("/api/services/{service}/operations", service_operations, methods=["GET"]),
        Route("/api/operations", operations, methods=["GET"]),
        Route("/api/traces", search, methods=["GET"]),
        Route("/api/traces/{trace_id}", get_trace, methods=["GET"]),
        Route("/sandbox/traces", add_traces, methods=["POST"]),
        Route("/sandbox/traces", clear_traces, methods=["DELETE"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.router.redirect_slashes = False  # gorilla/mux answers 404, not a redirect
    return app


def _multi_params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def _parse_micros(name: str, value: str) -> int:
    try:
        return parse_go_int(value)
    except GoParseError as err:
        raise GoParseError(f"unable to parse param '{name}': {err}") from err
