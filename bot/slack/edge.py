"""The HTTP-mode door for Slack: verify, refuse replays, validate, then hand to Bolt.

Order matters: a request whose signature does not verify gets 401 before its body is even
parsed, and the body is never logged. Only then is the payload checked (400 naming the
problem) and dispatched to Bolt on a worker thread, so the event loop keeps serving.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qs

import anyio
from slack_bolt import App, BoltRequest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.cache import Cache
from bot.errors import BadInput, Unauthorized
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.settings import SlackSettings
from bot.slack.json_guard import load_untrusted
from bot.slack.request_body import read_capped, require_utf8

log = get_logger("opsbot.slack.edge")
MAX_BODY = 1_000_000
ACTION_VALUE_MAX = 2000
EVENT_TYPES = ("event_callback", "url_verification", "app_rate_limited")
OBJECT_FIELDS = ("event", "view", "container", "message", "state", "item", "previous_message")
OBJECT_OR_ID_FIELDS = ("user", "team", "channel", "enterprise")
LISTS_OF_OBJECTS = ("actions", "authorizations")
STRING_FIELDS = (
    "type",
    "subtype",
    "ts",
    "thread_ts",
    "event_ts",
    "bot_id",
    "text",
    "trigger_id",
    "response_url",
    "callback_id",
    "api_app_id",
    "team_id",
    "user_id",
    "channel_id",
    "enterprise_id",
    "event_id",
)


def verify_signature(
    secret: str, headers: dict[str, str], body: bytes, now: float, max_age: int
) -> str:
    """Return the signature if it is valid and fresh; raise Unauthorized saying why not."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        raise Unauthorized("unsigned")
    try:
        sent = int(timestamp)
    except ValueError:
        raise Unauthorized("bad_timestamp") from None
    if abs(now - sent) > max_age:
        raise Unauthorized("stale")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise Unauthorized("bad_signature")
    return signature


def check_interaction(data: dict[str, Any], where: str) -> None:
    """Refuse interactions Slack could not have sent: a view without a type (Bolt fails
    with a KeyError), an action value over Slack's 2,000 characters."""
    view = data.get("view")
    if isinstance(view, dict) and not isinstance(view.get("type"), str):
        raise BadInput(f"{where} field 'view' has no 'type'")
    actions = data.get("actions")
    for action in actions if isinstance(actions, list) else []:
        value = action.get("value") if isinstance(action, dict) else None
        if isinstance(value, str) and len(value) > ACTION_VALUE_MAX:
            # Slack caps a button's value at 2,000 characters: this is not from Slack.
            raise BadInput(f"{where} action 'value' is over {ACTION_VALUE_MAX} characters")


def check_shape(data: dict[str, Any], where: str) -> None:
    """Refuse fields Slack always sends as objects (or ids) but that arrive as something
    else: Bolt's request parsing dereferences them and would fail with a 500."""
    check_interaction(data, where)
    for scope, fields in ((where, data), (f"{where} 'event'", data.get("event"))):
        if not isinstance(fields, dict):
            continue
        for name in OBJECT_FIELDS:
            if fields.get(name) is not None and not isinstance(fields[name], dict):
                raise BadInput(f"{scope} field '{name}' must be an object")
        for name in OBJECT_OR_ID_FIELDS:
            if fields.get(name) is not None and not isinstance(fields[name], dict | str):
                raise BadInput(f"{scope} field '{name}' must be an object or an id")
        for name in LISTS_OF_OBJECTS:
            value = fields.get(name)
            if value is not None and not (
                isinstance(value, list) and all(isinstance(v, dict) for v in value)
            ):
                raise BadInput(f"{scope} field '{name}' must be a list of objects")
        for name in STRING_FIELDS:
            if fields.get(name) is not None and not isinstance(fields[name], str):
                raise BadInput(f"{scope} field '{name}' must be a string")


def parse_payload(content_type: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """Check the body is one of Slack's request shapes; returns (kind, parsed body)."""
    require_utf8(content_type)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("body is not UTF-8") from None
    if content_type.startswith("application/json"):
        data = load_untrusted(text)
        if not isinstance(data, dict) or data.get("type") not in EVENT_TYPES:
            raise BadInput(
                "JSON body has no 'type' field (expected event_callback or url_verification)"
            )
        if data["type"] == "event_callback" and not isinstance(data.get("event"), dict):
            raise BadInput("event_callback has no 'event' object")
        if data["type"] == "url_verification" and not isinstance(data.get("challenge"), str):
            raise BadInput("url_verification has no 'challenge' string")
        check_shape(data, "body")
        return data["type"], data
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
        if form.get("ssl_check") == "1":
            return "ssl_check", form
        if "payload" in form:
            payload = load_untrusted(form["payload"], "'payload'")
            if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
                raise BadInput("'payload' has no 'type' field")
            check_shape(payload, "'payload'")
            return payload["type"], payload
        if "command" in form:
            if not form["command"].startswith("/"):
                raise BadInput("'command' must start with '/'")
            return "slash_command", form
        raise BadInput("form body has neither 'command' nor 'payload'")
    raise BadInput(f"unsupported content type '{content_type or 'none'}'", status=415)


class SlackEdge:
    """Slack's HTTP endpoints: verifies the signature and its age, refuses replays (the
    signature is remembered in `cache`), then hands the request to the Bolt app."""

    def __init__(self, app: App, slack: SlackSettings, metrics: Metrics, cache: Cache) -> None:
        """`slack`: the signing secret and how old a request may be."""
        self.app = app
        self.metrics = metrics
        self.cache = cache
        secret = slack.signing_secret
        self.secret = secret.get_secret_value() if secret else ""
        self.max_age = slack.request_max_age_seconds

    def _refuse(self, outcome: str, status: int, message: str, request: Request) -> Response:
        self.metrics.slack_requests.labels("unknown", outcome).inc()
        # Logged without the body: it may hold user text, and it failed authentication.
        log.warning(
            "slack request refused",
            outcome=outcome,
            status=status,
            path=request.url.path,
            client=request.client.host if request.client else None,
            retry_num=request.headers.get("x-slack-retry-num"),
        )
        return JSONResponse({"ok": False, "error": outcome, "message": message}, status_code=status)

    async def handle(self, request: Request) -> Response:
        body = await read_capped(request, MAX_BODY)
        if body is None:
            return self._refuse("too_large", 413, f"body exceeds {MAX_BODY} bytes", request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            signature = verify_signature(self.secret, headers, body, time.time(), self.max_age)
        except Unauthorized as exc:
            return self._refuse(str(exc), 401, "request signature verification failed", request)
        if not self.cache.add(f"slack-sig:{signature}", b"1", ttl=self.max_age + 60):
            return self._refuse(
                "replayed", 401, "this signed request was already received", request
            )
        try:
            kind, _ = parse_payload(headers.get("content-type", ""), body)
        except BadInput as exc:
            return self._refuse("malformed", exc.status, str(exc), request)
        self.metrics.slack_requests.labels(kind, "accepted").inc()
        if kind in ("ssl_check", "app_rate_limited"):
            # Slack checking the certificate, or telling us it drops events for a while.
            if kind == "app_rate_limited":
                log.warning("slack is dropping this app's events: rate limited")
            return Response(status_code=200)
        bolt_request = BoltRequest(
            body=body.decode("utf-8"),
            query=dict(request.query_params),
            headers=dict(request.headers),
        )
        response = await anyio.to_thread.run_sync(self.app.dispatch, bolt_request)
        return Response(
            status_code=response.status,
            content=response.body,
            headers=response.first_headers_without_set_cookie(),
        )
