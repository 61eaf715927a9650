"""Jaeger's HTTP query API (`/api/services`, `/api/traces`, ...) over httpx.

Every answer is `{"data", "total", "limit", "offset", "errors"}`; errors arrive with an HTTP
error status and `errors: [{"code", "msg"}]` (sent as text/plain by Go's http.Error, so the
body is decoded as JSON whatever its content type).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from tools.base import ErrorKind, ToolFailure
from tools.config import JaegerConfig
from tools.http_backend import HttpBackend, QueryParams, status_failure

LABEL = "Jaeger"


class JaegerApi:
    """Typed calls returning the envelope's `data`."""

    def __init__(self, config: JaegerConfig, transport: httpx.BaseTransport | None = None):
        headers = {}
        if config.bearer_token is not None:
            headers["Authorization"] = f"Bearer {config.bearer_token.get_secret_value()}"
        self._http = HttpBackend(
            LABEL,
            config.url,
            timeout_seconds=config.timeout_seconds,
            headers=headers,
            verify_tls=config.verify_tls,
            transport=transport,
        )

    def services(self) -> list[str]:
        return list(self._data("/api/services") or [])

    def operations(self, service: str) -> list[str]:
        return list(self._data(f"/api/services/{quote(service, safe='')}/operations") or [])

    def find_traces(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        return list(self._data("/api/traces", params=params) or [])

    def get_trace(self, trace_id: str) -> dict[str, Any]:
        data = self._data(f"/api/traces/{quote(trace_id, safe='')}")
        if not data:
            raise ToolFailure(ErrorKind.NOT_FOUND, f"Jaeger has no trace {trace_id}.")
        trace: dict[str, Any] = data[0]
        return trace

    def close(self) -> None:
        self._http.close()

    def _data(self, path: str, params: QueryParams | None = None) -> Any:
        response = self._http.request("GET", path, params=params)
        body = _decode(response.text)
        if response.status_code == 200 and isinstance(body, dict):
            return body.get("data")
        message = _error_message(body) or response.text.strip()[:200]
        if response.status_code == 404 and "trace not found" in message:
            raise ToolFailure(
                ErrorKind.NOT_FOUND,
                "Jaeger has no trace with that id (it may have expired from storage). Find "
                "current trace ids with jaeger_find_traces.",
            )
        if response.status_code == 400:
            raise ToolFailure(
                ErrorKind.REJECTED,
                f"Jaeger rejected the search: {message}. Fix that argument and call again.",
            )
        if response.status_code == 404:
            raise ToolFailure(
                ErrorKind.MISCONFIGURED,
                f"Jaeger answered 404 for {path} ({message}); the configured URL may not be "
                "a Jaeger query service. Continue with other sources.",
            )
        raise status_failure(LABEL, response.status_code, message)


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _error_message(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors") or []
    return "; ".join(str(e.get("msg", "")) for e in errors if isinstance(e, dict))
