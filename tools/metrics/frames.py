"""Range queries as pandas histories, through prometheus-api-client.

`PrometheusConnect.custom_query_range` fetches the series and `MetricRangeDataFrame` turns
each into a frame of float values, which is what the capacity forecasts feed to pandas and
statsmodels. The client is held to the rules `PrometheusApi` (httpx) keeps: only the
configured URL is reached (its paths are fixed by the library), a redirect is refused rather
than followed, nothing is retried, the HTTP request and Prometheus' own evaluation both stop
after `timeout_seconds`, and a result with more series than `max_response_series` is refused.
Failures become `ToolFailure`s worded like `tools.metrics.api`'s.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from prometheus_api_client.exceptions import PrometheusApiClientException
from prometheus_api_client.prometheus_connect import PrometheusConnect
from urllib3.util.retry import Retry

from tools.base import ErrorKind, ToolFailure
from tools.config import PrometheusConfig
from tools.http_backend import status_failure
from tools.metrics.api import LABEL, api_failure

if TYPE_CHECKING:
    import pandas as pd

# How prometheus-api-client words a non-200 answer: the status and repr(response.content).
_STATUS = re.compile(r"HTTP Status Code (\d+) \((b'.*'|b\".*\")\)\Z", re.DOTALL)


@dataclass(frozen=True)
class SeriesHistory:
    """One series of a range query: its labels and its values over time."""

    labels: Mapping[str, str]
    values: pd.Series  # float64, indexed by tz-aware UTC timestamps, oldest first

    def points(self) -> list[tuple[datetime, float]]:
        """The history as (UTC time, value) pairs, the shape the forecasts fit."""
        return [(at.to_pydatetime(), float(value)) for at, value in self.values.items()]


class RangeFrames:
    """Range queries against the configured Prometheus, one `SeriesHistory` per series."""

    def __init__(self, config: PrometheusConfig) -> None:
        headers: dict[str, str] = {}
        if config.bearer_token is not None:
            headers["Authorization"] = f"Bearer {config.bearer_token.get_secret_value()}"
        session = requests.Session()
        session.verify = config.verify_tls
        session.max_redirects = 0  # a 3xx raises TooManyRedirects instead of being followed
        self.config = config
        self._client = PrometheusConnect(
            url=config.url,
            headers=headers,
            disable_ssl=not config.verify_tls,
            retry=Retry(total=0, redirect=0),
            session=session,
            timeout=config.timeout_seconds,  # type: ignore[arg-type]  # requests takes floats
            method="POST",
        )
        self._eval_timeout = f"{max(1, int(config.timeout_seconds))}s"

    def history(
        self, expr: str, start: datetime, end: datetime, step: timedelta
    ) -> list[SeriesHistory]:
        """Every series `expr` yields from `start` to `end` at `step` (whole seconds: the
        client rounds start and end)."""
        try:
            rows = self._client.custom_query_range(
                expr,
                start_time=start,
                end_time=end,
                step=f"{step.total_seconds():g}",
                params={"timeout": self._eval_timeout},
            )
        except PrometheusApiClientException as exc:
            raise answer_failure(str(exc)) from None
        except requests.Timeout:
            raise ToolFailure(
                ErrorKind.TIMEOUT,
                f"{LABEL} did not answer within {self.config.timeout_seconds:g}s. Narrow the "
                "time range or simplify the query, or continue with other sources.",
            ) from None
        except requests.TooManyRedirects as exc:
            status = exc.response.status_code if exc.response is not None else "3xx"
            raise ToolFailure(
                ErrorKind.UNAVAILABLE,
                f"{LABEL} at {self.config.url} answered with a redirect (HTTP {status}), which "
                "the bot does not follow; configure the URL it redirects to.",
            ) from None
        except requests.ConnectionError as exc:
            raise ToolFailure(
                ErrorKind.UNAVAILABLE,
                f"Cannot reach {LABEL} at {self.config.url} ({_describe(exc)}). {LABEL} data "
                "is unavailable right now; continue with other sources and say that this one "
                "could not be checked.",
            ) from None
        except requests.RequestException as exc:
            raise ToolFailure(
                ErrorKind.UNAVAILABLE,
                f"{LABEL} request failed ({_describe(exc)}). Retry later or continue with "
                "other sources.",
            ) from None
        except (ValueError, KeyError, TypeError):  # a 200 that is not Prometheus' envelope
            raise ToolFailure(
                ErrorKind.UNAVAILABLE,
                f"{LABEL} answered HTTP 200 without its API envelope; the configured URL may "
                "be wrong.",
            ) from None
        if len(rows) > self.config.max_response_series:
            raise ToolFailure(
                ErrorKind.TOO_LARGE,
                f"The query returned {len(rows):,} series, more than the "
                f"{self.config.max_response_series:,} allowed. Aggregate it "
                "(sum by (service) (...), topk(10, ...)) or add label matchers.",
            )
        return [_series(row) for row in rows]

    def close(self) -> None:
        self._client.close()


def answer_failure(message: str) -> ToolFailure:
    """The failure for prometheus-api-client's non-200 exception: Prometheus' own
    errorType/error when the body is its envelope, else the HTTP status and body."""
    match = _STATUS.match(message)
    if match is None:
        return ToolFailure(ErrorKind.UNAVAILABLE, f"{LABEL} request failed: {message[:200]}")
    status = int(match.group(1))
    body = ast.literal_eval(match.group(2)).decode("utf-8", "replace")
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if isinstance(envelope, dict) and envelope.get("status") == "error":
        return api_failure(
            status, str(envelope.get("errorType", "")), str(envelope.get("error", ""))
        )
    return status_failure(LABEL, status, body[:200].strip())


def _series(row: dict[str, Any]) -> SeriesHistory:
    # Imported here: pandas costs tens of MiB, paid only by processes that ask for frames.
    import pandas as pd
    from prometheus_api_client import MetricRangeDataFrame

    labels = dict(row["metric"])
    if not row["values"]:  # MetricRangeDataFrame cannot index an empty series
        empty = pd.DatetimeIndex([], tz="UTC", name="timestamp")
        return SeriesHistory(labels, pd.Series([], index=empty, dtype="float64"))
    frame = MetricRangeDataFrame([row])
    values = frame["value"].astype("float64")
    values.index = values.index.tz_localize("UTC").round("ms")
    return SeriesHistory(labels, values)


def _describe(exc: requests.RequestException) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "ECONNREFUSED" in text:
        return "connection refused"
    return text[:200]
