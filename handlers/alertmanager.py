"""`POST /alertmanager`: authenticate, bound, validate, persist, then 200 (503 with
Retry-After while the database cannot take the body, so the sender retries)."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.errors import BadInput, Retryable
from bot.logs import get_logger
from bot.settings import AlertmanagerSettings
from bot.slack.request_body import read_capped, require_utf8

log = get_logger("opsbot.alertmanager")


def authorized(settings: AlertmanagerSettings, header: str | None) -> bool:
    """Bearer token or basic auth, whichever is configured; open when neither is."""
    if settings.bearer_token is None and settings.username is None:
        return True
    scheme, _, credentials = (header or "").partition(" ")
    if settings.bearer_token is not None and scheme.lower() == "bearer":
        return hmac.compare_digest(credentials.strip(), settings.bearer_token.get_secret_value())
    if settings.username is not None and scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = settings.password.get_secret_value() if settings.password else ""
        return hmac.compare_digest(user, settings.username) and hmac.compare_digest(
            password, expected
        )
    return False


def register(
    app: Starlette,
    settings: AlertmanagerSettings,
    accept: Callable[[bytes], int],
    retry_after_seconds: int,
) -> None:
    """`POST /alertmanager`: `accept(body)` validates and persists a body, returning its
    inbox id (BadInput: 4xx; Retryable: 503 with Retry-After `retry_after_seconds`)."""

    def refusal(request: Request) -> Response | None:
        """A 4xx for a request refused on its headers alone (credentials, type, size)."""
        if not authorized(settings, request.headers.get("authorization")):
            log.warning("webhook refused: bad credentials")
            return JSONResponse(
                {"error": "missing or wrong credentials"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="opsbot"'},
            )
        content_type = request.headers.get("content-type", "application/json")
        media = content_type.split(";")[0].strip()
        if media.lower() != "application/json" and not media.lower().endswith("+json"):
            return JSONResponse(
                {"error": f"content type must be application/json, not '{media or 'none'}'"},
                status_code=415,
            )
        try:
            require_utf8(content_type)
        except BadInput as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            return JSONResponse({"error": "body too large"}, status_code=413)
        return None

    async def receive(request: Request) -> Response:
        refused = refusal(request)
        if refused is not None:
            return refused
        body = await read_capped(request, settings.max_body_bytes)
        if body is None:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            inbox_id = await anyio.to_thread.run_sync(accept, body)
        except BadInput as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except Retryable as exc:
            # Alertmanager retries a 5xx (and a network error) with back-off; a 4xx is final.
            return JSONResponse(
                {"error": str(exc)},
                status_code=503,
                headers={"Retry-After": str(retry_after_seconds)},
            )
        return JSONResponse({"status": "accepted", "inbox_id": inbox_id})

    app.add_route("/alertmanager", receive, methods=["POST"])
