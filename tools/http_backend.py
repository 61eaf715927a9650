"""An httpx client bound to one configured base URL, with transport failures made actionable.

Paths are fixed by the tool code and path segments supplied by the model are quoted, so a
call can only ever reach the configured backend. `request` checks that invariant anyway: a
path that is an absolute or scheme-relative URL, climbs with `.`/`..` segments or carries
control characters is refused before anything is sent (httpx would follow an absolute URL
to its host, and a server may resolve `..` above the configured prefix).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

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
        if not is_contained_path(path):
            raise ToolFailure(
                ErrorKind.INVALID_INPUT,
                f"Refused to send a request for {path[:80]!r}: a {self.label} path must stay "
                "under the configured URL. Pass plain names, not URLs or paths.",
            )
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


def is_contained_path(path: str) -> bool:
    """True for a plain absolute path ("/api/v1/query") that stays below the base URL."""
    if not path.startswith("/") or path.startswith("//"):
        return False
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return False
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return False
    return all(unquote(segment) not in (".", "..") for segment in parts.path.split("/"))


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
