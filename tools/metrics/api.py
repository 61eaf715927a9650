"""The Prometheus HTTP API (v1) over httpx, with its errors turned into actionable messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from tools.base import ErrorKind, ToolFailure
from tools.config import PrometheusConfig
from tools.http_backend import HttpBackend, QueryParams, decode_json, status_failure

LABEL = "Prometheus"


class PrometheusApi:
    """Typed calls to /api/v1/*; each returns the `data` member of Prometheus' envelope."""

    def __init__(self, config: PrometheusConfig, transport: httpx.BaseTransport | None = None):
        headers = {}
        if config.bearer_token is not None:
            headers["Authorization"] = f"Bearer {config.bearer_token.get_secret_value()}"
        self.config = config
        self._http = HttpBackend(
            LABEL,
            config.url,
            timeout_seconds=config.timeout_seconds,
            headers=headers,
            verify_tls=config.verify_tls,
            transport=transport,
        )
        self._eval_timeout = f"{max(1, int(config.timeout_seconds))}s"

    def query(self, expr: str, at: datetime) -> dict[str, Any]:
        form = {"query": expr, "time": _ts(at), "timeout": self._eval_timeout}
        return self._data("POST", "/api/v1/query", form=form)  # type: ignore[no-any-return]

    def query_range(
        self, expr: str, start: datetime, end: datetime, step: timedelta
    ) -> dict[str, Any]:
        form = {
            "query": expr,
            "start": _ts(start),
            "end": _ts(end),
            "step": f"{step.total_seconds():g}",
            "timeout": self._eval_timeout,
        }
        return self._data("POST", "/api/v1/query_range", form=form)  # type: ignore[no-any-return]

    def label_values(
        self, label: str, matchers: Sequence[str], start: datetime, end: datetime
    ) -> list[str]:
        params: dict[str, Any] = {"start": _ts(start), "end": _ts(end)}
        if matchers:
            params["match[]"] = list(matchers)
        path = f"/api/v1/label/{quote(label, safe='')}/values"
        return self._data("GET", path, params=params)  # type: ignore[no-any-return]

    def series(
        self, matchers: Sequence[str], start: datetime, end: datetime
    ) -> list[dict[str, str]]:
        form: dict[str, Any] = {"match[]": list(matchers), "start": _ts(start), "end": _ts(end)}
        return self._data("POST", "/api/v1/series", form=form)  # type: ignore[no-any-return]

    def alerts(self) -> list[dict[str, Any]]:
        data = self._data("GET", "/api/v1/alerts")
        return list(data.get("alerts") or [])

    def alerting_rules(self) -> list[dict[str, Any]]:
        """Every alerting rule group (`/api/v1/rules?type=alert`): name, file, rules."""
        data = self._data("GET", "/api/v1/rules", params={"type": "alert"})
        return list(data.get("groups") or [])

    def close(self) -> None:
        self._http.close()

    def _data(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        form: dict[str, Any] | None = None,
    ) -> Any:
        response = self._http.request(method, path, params=params, form=form)
        if response.status_code in (401, 403, 404, 429) and not _is_api_envelope(response):
            raise status_failure(LABEL, response.status_code, response.text[:200].strip())
        body = decode_json(LABEL, response)
        if not isinstance(body, dict) or "status" not in body:
            raise ToolFailure(
                ErrorKind.UNAVAILABLE,
                f"{LABEL} answered HTTP {response.status_code} without its API envelope; "
                "the configured URL may be wrong.",
            )
        if body["status"] != "success":
            raise api_failure(
                response.status_code, str(body.get("errorType", "")), str(body.get("error", ""))
            )
        return body.get("data")


def api_failure(status: int, error_type: str, error: str) -> ToolFailure:
    """Prometheus' errorType/error pair as a message telling the model what to change."""
    if error_type == "bad_data":
        return ToolFailure(
            ErrorKind.REJECTED,
            f"Prometheus rejected the query: {error}. Fix the PromQL (or the argument it "
            "names) and call again.",
        )
    if error_type == "execution":
        return ToolFailure(
            ErrorKind.REJECTED,
            f"Prometheus could not evaluate the query: {error}. Change the expression (for "
            "example aggregate with sum by (...) or fix the vector matching) and call again.",
        )
    if error_type in ("timeout", "canceled"):
        return ToolFailure(
            ErrorKind.TIMEOUT,
            f"Prometheus gave up evaluating the query ({error}). Narrow the time range, use a "
            "larger step, or aggregate to fewer series.",
        )
    return status_failure(LABEL, status, f"{error_type}: {error}" if error_type else error)


def _is_api_envelope(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("application/json")


def _ts(moment: datetime) -> str:
    return f"{moment.timestamp():.3f}"
