"""An httpx client bound to one configured base URL, with transport failures made actionable.

Paths are fixed by the tool code and path segments supplied by the model are quoted, so a
call can only ever reach the configured backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from tools.base import ErrorKind, ToolFailure

QueryParams = Mapping[str, str | int | float | Sequence[str]]


class HttpBackend:
    """One backend (`label` names it in messages) reached over HTTP."""

    def __init__(
        self,
        label: str,
        base_url: str,
        *,
        timeout_seconds: float,
        headers: Mapping[str, str] | None = None,
        verify_tls: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.label = label
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_seconds,
            headers=dict(headers or {}),
            verify=verify_tls,
            transport=transport,
            follow_redirects=False,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        form: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; connection problems and timeouts become ToolFailure."""
        try:
            return self._client.request(method, path, params=params, data=form)
        except httpx.TimeoutException:
            raise ToolFailure(
                ErrorKind.TIMEOUT,
                f"{self.label} did not answer within {self.timeout_seconds:g}s. Narrow the "
                "time range or simplify the query, or continue with other sources.",
            ) from None
        except httpx.TransportError as exc:
            raise ToolFailure(
                ErrorKind.UNAVAILABLE,
                f"Cannot reach {self.label} at {self.base_url} ({describe_transport_error(exc)}). "
                f"{self.label} data is unavailable right now; continue with other sources "
                "and say that this one could not be checked.",
            ) from None

    def close(self) -> None:
        self._client.close()


def describe_transport_error(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "ECONNREFUSED" in text:
        return "connection refused"
    return text


def decode_json(label: str, response: httpx.Response) -> Any:
    """The body as JSON, or ToolFailure when the backend answered something else."""
    try:
        return response.json()
    except ValueError:
        raise ToolFailure(
            ErrorKind.UNAVAILABLE,
            f"{label} answered HTTP {response.status_code} with a body that is not JSON; "
            "the configured URL may point at something else.",
        ) from None


def status_failure(label: str, status: int, detail: str) -> ToolFailure:
    """A failure for an HTTP error status the backend-specific code did not classify."""
    if status in (401, 403):
        return ToolFailure(
            ErrorKind.UNAUTHORIZED,
            f"{label} refused the bot's credentials (HTTP {status}: {detail}). This is a "
            "configuration problem, not a query problem; continue with other sources.",
        )
    if status == 404:
        return ToolFailure(ErrorKind.NOT_FOUND, f"{label} answered 404: {detail}.")
    if status == 429 or status >= 500:
        return ToolFailure(
            ErrorKind.UNAVAILABLE,
            f"{label} failed with HTTP {status} ({detail}). Retry later or continue with "
            "other sources.",
        )
    return ToolFailure(
        ErrorKind.REJECTED, f"{label} rejected the request (HTTP {status}): {detail}."
    )
