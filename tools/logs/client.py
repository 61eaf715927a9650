"""The `elasticsearch` client in two flavours, and its errors turned into actionable messages.

elasticsearch-py 8+ sends `application/vnd.elasticsearch+json; compatible-with=N` and refuses
servers that do not answer `X-Elastic-Product: Elasticsearch`. OpenSearch answers 406 to that
media type and sends no such header, so the OpenSearch flavour uses a transport node that
sends plain `application/json` (and `application/x-ndjson`) and accepts the server as is.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from elastic_transport import HttpHeaders, Urllib3HttpNode
from elastic_transport._node import NodeApiResponse  # the node extension point's type
from elastic_transport.client_utils import DEFAULT, DefaultType
from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    ConnectionError,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
    TransportError,
    UnsupportedProductError,
)

from tools.base import ErrorKind, ToolFailure
from tools.config import LogSearchConfig

LABEL = "The log store"
_VERSIONED = re.compile(r"application/vnd\.elasticsearch\+([a-z-]+);\s*compatible-with=\d+")


class PlainJsonNode(Urllib3HttpNode):
    """A urllib3 node that speaks OpenSearch's media types."""

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: DefaultType | float | None = DEFAULT,
    ) -> NodeApiResponse:
        plain = HttpHeaders(headers or {})
        for name in ("accept", "content-type"):
            if name in plain:
                plain[name] = _VERSIONED.sub(r"application/\1", plain[name])
        response = super().perform_request(
            method, target, body=body, headers=plain, request_timeout=request_timeout
        )
        if "x-elastic-product" not in response.meta.headers:
            # The client checks this header before accepting any answer; the flavour is an
            # explicit configuration choice, so say the server is acceptable.
            response.meta.headers["x-elastic-product"] = "Elasticsearch"
        return response


def build_search_client(config: LogSearchConfig) -> Elasticsearch:
    options: dict[str, Any] = {
        "request_timeout": config.timeout_seconds,
        "max_retries": config.max_retries,
        "retry_on_timeout": False,
        "verify_certs": config.verify_tls,
    }
    if config.api_key is not None:
        options["api_key"] = config.api_key.get_secret_value()
    elif config.username is not None and config.password is not None:
        options["basic_auth"] = (config.username, config.password.get_secret_value())
    if config.flavor == "opensearch":
        options["node_class"] = PlainJsonNode
    return Elasticsearch(url_with_port(config.url), **options)


def url_with_port(url: str) -> str:
    """The client insists on an explicit port; a URL without one means the scheme's default."""
    parts = urlsplit(url)
    if parts.port is not None:
        return url
    port = 443 if parts.scheme == "https" else 80
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))


def hits_of(response: Any) -> list[dict[str, Any]]:
    """The hits of a _search answer; a body without them (a proxy's error page, another
    service at the configured URL) is the backend's failure, not a fault in the tool."""
    hits = response.get("hits") if isinstance(response, dict) else None
    found = hits.get("hits") if isinstance(hits, dict) else None
    if not isinstance(found, list) or not all(isinstance(h, dict) for h in found):
        raise ToolFailure(
            ErrorKind.UNAVAILABLE,
            f"{LABEL} answered a search without hits; the configured URL may point at "
            "something else. Continue with other sources.",
        )
    return found


def search_failure(exc: ApiError | TransportError, config: LogSearchConfig) -> ToolFailure:
    """The client's exception as a message that says what to do next."""
    if isinstance(exc, TransportError):
        return _transport_failure(exc, config)
    if isinstance(exc, UnsupportedProductError):
        return _misconfigured("the server is not Elasticsearch; set flavor: opensearch")
    if isinstance(exc, AuthenticationException | AuthorizationException):
        return ToolFailure(
            ErrorKind.UNAUTHORIZED,
            f"{LABEL} refused the bot's credentials ({_reason(exc)}). This is a configuration "
            "problem, not a query problem; continue with other sources.",
        )
    if isinstance(exc, NotFoundError):
        return ToolFailure(
            ErrorKind.NOT_FOUND,
            f"{LABEL} has no index matching {config.index_pattern!r} ({_reason(exc)}). The "
            "configured index pattern may be wrong; logs cannot be searched.",
        )
    return _status_failure(exc.meta.status, _reason(exc))


def _transport_failure(exc: TransportError, config: LogSearchConfig) -> ToolFailure:
    if isinstance(exc, ConnectionTimeout):
        return ToolFailure(
            ErrorKind.TIMEOUT,
            f"{LABEL} did not answer within {config.timeout_seconds:g}s. Narrow the time "
            "window or add a service or text filter, or continue with other sources.",
        )
    if isinstance(exc, ConnectionError):
        return ToolFailure(
            ErrorKind.UNAVAILABLE,
            f"Cannot reach {LABEL.lower()} at {config.url} ({_first_line(exc)}). Logs are "
            "unavailable right now; continue with other sources and say logs were not checked.",
        )
    return ToolFailure(ErrorKind.UNAVAILABLE, f"{LABEL} failed: {_first_line(exc)}.")


def _status_failure(status: int, reason: str) -> ToolFailure:
    if status == 406:
        return _misconfigured(
            f"it refused the client's media type ({reason}); it is probably OpenSearch: "
            "set flavor: opensearch"
        )
    if status == 400 and "fielddata" in reason:
        return _misconfigured(
            "an aggregation used a text field; point message_keyword_field and service_field "
            f"at keyword fields ({reason})"
        )
    if status == 400:
        return ToolFailure(
            ErrorKind.REJECTED,
            f"{LABEL} rejected the search: {reason}. Simplify the text filter or change the "
            "arguments and call again.",
        )
    if status == 429 or status >= 500:
        return ToolFailure(
            ErrorKind.UNAVAILABLE,
            f"{LABEL} failed with HTTP {status} ({reason}). Retry later with a narrower "
            "window, or continue with other sources.",
        )
    return ToolFailure(ErrorKind.REJECTED, f"{LABEL} answered HTTP {status}: {reason}.")


def _misconfigured(detail: str) -> ToolFailure:
    return ToolFailure(
        ErrorKind.MISCONFIGURED,
        f"{LABEL} is misconfigured in the bot: {detail}. Logs cannot be searched until an "
        "operator fixes it; continue with other sources.",
    )


def _reason(exc: ApiError) -> str:
    """`type: reason` from the root cause of an Elasticsearch/OpenSearch error body."""
    return _raw_reason(exc).strip().rstrip(".")


def _raw_reason(exc: ApiError) -> str:
    body = exc.body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        causes = error.get("root_cause") or []
        cause = causes[0] if causes and isinstance(causes[0], dict) else error
        text = f"{cause.get('type', 'error')}: {cause.get('reason', '')}".strip()
        failed = error.get("failed_shards") or []
        if failed and isinstance(failed[0], dict):
            shard_reason = failed[0].get("reason", {})
            if isinstance(shard_reason, dict) and shard_reason.get("reason"):
                text = f"{shard_reason.get('type', 'error')}: {shard_reason['reason']}"
        return text
    if isinstance(error, str):
        return error
    return str(exc.message)


def _first_line(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "ECONNREFUSED" in text:
        return "connection refused"
    return text.splitlines()[0][:200]
