"""The Messages API's error envelope, status codes and ids.

Every error body is `{"type": "error", "error": {"type", "message"}, "request_id"}` and every
answer carries a `request-id` header. `x-should-retry` tells the SDK whether to retry (it obeys
the header before looking at the status), as the real API does.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ErrorType = Literal[
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "overloaded_error",
]

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


@dataclass
class ApiError(Exception):
    """An error answer: raised anywhere in request handling, rendered by the app."""

    status: int
    error_type: ErrorType
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.error_type}: {self.message}"


def invalid_request(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


def error_body(error: ApiError, request_id: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error.error_type, "message": error.message},
        "request_id": request_id,
    }


def error_headers(error: ApiError, request_id: str) -> dict[str, str]:
    retry = "true" if error.status in RETRYABLE_STATUSES else "false"
    return {"request-id": request_id, "x-should-retry": retry, **error.headers}


def random_id(prefix: str, length: int = 24) -> str:
    """Ids shaped like the API's: `req_011C...`, `msg_01...`, `toolu_01...`."""
    return prefix + "".join(secrets.choice(_BASE58) for _ in range(length))


def new_request_id() -> str:
    return random_id("req_011C", 20)


FAULT_ERRORS: Mapping[str, tuple[int, ErrorType, str]] = {
    "invalid_request": (400, "invalid_request_error", "Invalid request"),
    "authentication": (401, "authentication_error", "invalid x-api-key"),
    "permission": (
        403,
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    "not_found": (404, "not_found_error", "Not found"),
    "request_too_large": (
        413,
        "request_too_large",
        "Request exceeds the maximum allowed number of bytes.",
    ),
    "rate_limit": (
        429,
        "rate_limit_error",
        "This request would exceed your account's rate limit. Please try again later.",
    ),
    "api_error": (500, "api_error", "Internal server error"),
    "overloaded": (529, "overloaded_error", "Overloaded"),
}
"""Fault kind -> (HTTP status, error type, the API's usual message)."""
