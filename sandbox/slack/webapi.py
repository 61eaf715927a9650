"""POST /api/{method}: request parsing, auth, injected failures, rate limits, dispatch, call log.

Bodies arrive as slack_sdk sends them: JSON (token only in the Authorization header, as
Slack requires for JSON), form-encoded or multipart (token in the header or a `token`
argument), plus query-string arguments.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.slack import methods_chat, methods_conversations, methods_files, methods_misc
from sandbox.slack.apicall import ApiCall, ApiError, Call
from sandbox.slack.limits import InjectedFailure
from sandbox.slack.methods_files import multipart_parts

if TYPE_CHECKING:
    from sandbox.slack.workspace import SlackWorkspace

Json = dict[str, Any]
Handler = Callable[[Call], Json]
METHODS: dict[str, Handler] = {
    **methods_chat.METHODS,
    **methods_conversations.METHODS,
    **methods_files.METHODS,
    **methods_misc.METHODS,
}


class CallLog:
    """Every Web API call in arrival order, for tests to inspect."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[ApiCall] = []

    def append(self, call: ApiCall) -> None:
        with self._lock:
            self._calls.append(call)

    def list(self, method: str | None = None) -> list[ApiCall]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


async def read_args(request: Request) -> tuple[Json, str, bool]:
    """Arguments from query and body, the body's media type, and whether it was JSON."""
    args: Json = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    body = await request.body()
    if not body:
        return args, media, False
    if media == "application/json":
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise ApiError("invalid_json") from exc
        if not isinstance(parsed, dict):
            raise ApiError("invalid_json")
        return args | parsed, media, True
    if media == "multipart/form-data":
        for name, filename, data in multipart_parts(body, content_type):
            args[name] = data if filename is not None else data.decode()
        return args, media, False
    if media in ("application/x-www-form-urlencoded", "text/plain", ""):
        args.update(parse_qsl(body.decode(), keep_blank_values=True))
        return args, media, False
    raise ApiError("invalid_post_type")


def _token(request: Request, args: Json, is_json: bool) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    token = args.get("token")
    return token if isinstance(token, str) and token and not is_json else None


def _token_kind(ws: SlackWorkspace, token: str | None) -> str | None:
    if token is None:
        raise ApiError("not_authed")
    if token == ws.config.bot_token:
        return "bot"
    if token == ws.config.app_token:
        return "app"
    raise ApiError("invalid_auth")


def _rate_key(ws: SlackWorkspace, args: Json) -> str:
    ref = str(args.get("channel", ""))
    channel = ws.state.resolve_channel(ref) if ref else None
    return channel.id if channel else ref


def _answer(body: Json, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


async def api_endpoint(request: Request) -> Response:
    ws: SlackWorkspace = request.app.state.workspace
    method = request.path_params["method"]
    ws.learn_base_url(str(request.base_url))
    args: Json = {}
    media = request.headers.get("content-type", "").split(";")[0]
    body: Json
    status: int = 200
    headers: dict[str, str] = {}
    failure = ws.failures.next_failure(method) if method in METHODS else None
    try:
        args, media, is_json = await read_args(request)
        if failure is not None and failure.status != 200 and not failure.landed:
            await asyncio.sleep(failure.delay_s)
            body, status, headers = _failed(failure)
        else:
            answer = _dispatch(ws, method, args, request, is_json)
            body, status, headers = answer if isinstance(answer, tuple) else (answer, 200, {})
            if failure is not None:  # the call took effect; its answer is late or an error
                await asyncio.sleep(failure.delay_s)
                if failure.status != 200:
                    body, status, headers = _failed(failure)
    except ApiError as error:
        body = {"ok": False, "error": error.error, **error.extra}
    logged_args = {k: v for k, v in args.items() if k != "token" and not isinstance(v, bytes)}
    ws.call_log.append(ApiCall(method, media, logged_args, body, status))
    return _answer(body, status, headers)


def _failed(failure: InjectedFailure) -> tuple[Json, int, dict[str, str]]:
    headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
    return {"ok": False, "error": failure.error}, failure.status, headers


def _dispatch(
    ws: SlackWorkspace, method: str, args: Json, request: Request, is_json: bool
) -> Json | tuple[Json, int, dict[str, str]]:
    handler = METHODS.get(method)
    if handler is None:
        raise ApiError("unknown_method")
    kind = _token_kind(ws, _token(request, args, is_json))
    wants_app = method in methods_misc.APP_TOKEN_METHODS
    if (kind == "app") != wants_app:
        raise ApiError("not_allowed_token_type")
    if ws.limiter.limits(method):
        wait = ws.limiter.take(method, _rate_key(ws, args))
        if wait is not None:
            return {"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)}
    result = handler(Call(ws, method, args, ws.base_url or str(request.base_url).rstrip("/")))
    return {"ok": True, **result}
