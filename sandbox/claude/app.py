"""`ClaudeSandbox`: a Messages API stand-in that replays scripted conversations.

Request handling mirrors the real service's order: size limit (413, from the edge), API key
(401; `x-api-key` or `Authorization: Bearer`, SDK 2.x sends the latter), `anthropic-version`,
JSON body, field validation (400), model (404), then the scripted answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from sandbox.claude.admin import admin_routes
from sandbox.claude.errors import (
    FAULT_ERRORS,
    ApiError,
    error_body,
    error_headers,
    invalid_request,
    new_request_id,
)
from sandbox.claude.latency import Latency
from sandbox.claude.recording import ExpectationFailure, RecordedRequest
from sandbox.claude.replies import IdMint, build_message
from sandbox.claude.script import Fault, Reply, Script, Turn, TurnLike, load_scripts
from sandbox.claude.scriptbook import ScriptBook
from sandbox.claude.streaming import failing_events, message_events, sse
from sandbox.claude.usage import PromptCache, count_input_tokens
from sandbox.claude.validation import validate_request

MAX_REQUEST_BYTES = 32 * 1024 * 1024
STALL_POLL_SECONDS = 0.05
ORGANIZATION_ID = "0b8a4c1e-5d2f-4e7a-9c3b-1f6d8e2a7b40"


class ClaudeSandbox:
    """The stand-in; serve `.app` (e.g. with `ServerThread`) and point `Anthropic(base_url=...)`
    at it. Inspect `.requests` and `.expectation_failures` afterwards. `latency` makes answers
    take as long as the real API's (None: at once). `min_cacheable_tokens` fixes the smallest
    cacheable prefix for every model (None: each model's documented minimum)."""

    def __init__(
        self,
        *,
        api_keys: Iterable[str] = ("sandbox-key",),
        known_models: Iterable[str] | None = None,
        min_cacheable_tokens: int | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        seed: int = 0,
        latency: Latency | None = None,
    ) -> None:
        self.api_keys = set(api_keys)
        self.latency = latency
        self.known_models = frozenset(known_models) if known_models is not None else None
        self.max_request_bytes = max_request_bytes
        self.book = ScriptBook()
        self.cache = PromptCache(min_cacheable_tokens)
        self.requests: list[RecordedRequest] = []
        self.expectation_failures: list[ExpectationFailure] = []
        self._ids = IdMint(seed)
        self.app = Starlette(
            routes=[
                Route("/v1/messages", self._messages, methods=["POST"]),
                Route("/v1/messages/count_tokens", self._count_tokens, methods=["POST"]),
                *admin_routes(self),
            ],
            exception_handlers={404: self._unknown_route, 405: self._unknown_route},
        )
        self.app.router.redirect_slashes = False

    # -- scripts ---------------------------------------------------------------------------

    def add_script(self, script: Script, *, activate: bool = False) -> Script:
        self.book.add(script, activate=activate)
        if script.api_key:
            self.api_keys.add(script.api_key)
        return script

    def script(
        self,
        name: str,
        turns: Sequence[TurnLike],
        *,
        activate: bool = True,
        api_key: str | None = None,
    ) -> Script:
        """Add a script built from turns, replies, faults or responder functions."""
        return self.add_script(Script.of(name, turns, api_key=api_key), activate=activate)

    def load(self, path: str | Path) -> list[str]:
        """Add the scripts of a YAML/JSON file and activate the file's chosen one."""
        scripts, active = load_scripts(path)
        for script in scripts:
            self.add_script(script, activate=script.name == active)
        return [script.name for script in scripts]

    def activate(self, name: str) -> None:
        self.book.activate(name)

    def remaining_turns(self, name: str) -> int:
        return self.book.remaining(name)

    def reset(self) -> None:
        """Rewind every script and forget requests, failures and cached prefixes."""
        self.book.rewind()
        self.requests.clear()
        self.expectation_failures.clear()
        self.cache.clear()

    # -- HTTP ------------------------------------------------------------------------------

    async def _messages(self, request: Request) -> Response:
        return await self._handle(request, count_tokens=False)

    async def _count_tokens(self, request: Request) -> Response:
        return await self._handle(request, count_tokens=True)

    async def _handle(self, request: Request, *, count_tokens: bool) -> Response:
        raw = await request.body()
        recorded = RecordedRequest(
            index=len(self.requests),
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=_decode_json(raw),
            request_id=new_request_id(),
            raw_body=raw,
        )
        self.requests.append(recorded)
        try:
            response = await self._answer(request, recorded, len(raw), count_tokens=count_tokens)
        except ApiError as err:
            recorded.error_message = err.message
            response = _error_response(err, recorded.request_id)
        except Exception as err:  # noqa: BLE001 - the server's outer boundary: answer 500
            recorded.error_message = f"sandbox bug: {err!r}"
            response = _error_response(
                ApiError(500, "api_error", "Internal server error"), recorded.request_id
            )
        recorded.status = response.status_code
        return response

    async def _answer(
        self, request: Request, recorded: RecordedRequest, size: int, *, count_tokens: bool
    ) -> Response:
        if size > self.max_request_bytes:
            raise ApiError(413, "request_too_large", FAULT_ERRORS["request_too_large"][2])
        api_key = self._authenticate(recorded)
        if not recorded.headers.get("anthropic-version"):
            raise invalid_request("anthropic-version: header is required")
        body = recorded.body
        if body is None:
            raise invalid_request(
                "There was an issue with the format of your request: invalid JSON body"
            )
        validate_request(body, count_tokens=count_tokens)
        self._check_model(body["model"])
        headers = {"request-id": recorded.request_id, "anthropic-organization-id": ORGANIZATION_ID}
        if count_tokens:
            return JSONResponse({"input_tokens": count_input_tokens(body)}, headers=headers)
        return await self._scripted(request, recorded, body, api_key, headers)

    async def _scripted(
        self,
        request: Request,
        recorded: RecordedRequest,
        body: dict[str, Any],
        api_key: str,
        headers: dict[str, str],
    ) -> Response:
        """Answer with the selected script's next turn."""
        taken = self.book.take(self.book.select(recorded, api_key), recorded)
        recorded.script, recorded.turn_index = taken.script, taken.index
        if taken.unmet is not None:
            failure = ExpectationFailure(taken.script, taken.index, recorded.index, taken.unmet)
            self.expectation_failures.append(failure)
            raise invalid_request(f"sandbox expectation failed: {taken.unmet}")
        turn = taken.turn
        if turn.stall_seconds and await _stall(request, turn.stall_seconds):
            recorded.disconnected = True
        answer = _answer_of(turn, recorded)
        streaming = body.get("stream") is True
        if isinstance(answer, Fault) and not (answer.mid_stream and streaming):
            raise fault_error(answer)
        usage = self.cache.account(api_key, body)
        if isinstance(answer, Fault):
            error = fault_error(answer)
            opening = build_message(
                Reply(), model=body["model"], max_tokens=1, input_usage=usage, ids=self._ids
            )
            return _event_stream(failing_events(opening, error), headers)
        message = build_message(
            answer,
            model=body["model"],
            max_tokens=body["max_tokens"],
            input_usage=usage,
            ids=self._ids,
        )
        if streaming:
            events = message_events(message)
            if self.latency is not None:
                return _event_stream(self.latency.paced(events), headers)
            return _event_stream(events, headers)
        if self.latency is not None and await _stall(request, self.latency.whole_answer(message)):
            recorded.disconnected = True
        return JSONResponse(message, headers=headers)

    def _authenticate(self, recorded: RecordedRequest) -> str:
        key = recorded.headers.get("x-api-key")
        authorization = recorded.headers.get("authorization", "")
        if key is None and authorization.lower().startswith("bearer "):
            key = authorization[len("bearer ") :].strip()
        if not key:
            raise ApiError(401, "authentication_error", "x-api-key header is required")
        if key not in self.api_keys:
            raise ApiError(401, "authentication_error", "invalid x-api-key")
        return key

    def _check_model(self, model: str) -> None:
        known = (
            model in self.known_models
            if self.known_models is not None
            else model.startswith("claude-")
        )
        if not known:
            raise ApiError(404, "not_found_error", f"model: {model}")

    async def _unknown_route(self, request: Request, exc: Exception) -> Response:
        return _error_response(ApiError(404, "not_found_error", "Not Found"), new_request_id())


def fault_error(fault: Fault) -> ApiError:
    status, error_type, default_message = FAULT_ERRORS[fault.kind]
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        whole = float(fault.retry_after).is_integer()
        headers["retry-after"] = str(int(fault.retry_after)) if whole else str(fault.retry_after)
    return ApiError(status, error_type, fault.message or default_message, headers)


def _answer_of(turn: Turn, recorded: RecordedRequest) -> Reply | Fault:
    if turn.reply is not None:
        return turn.reply
    if turn.fault is not None:
        return turn.fault
    assert turn.respond is not None
    return turn.respond(recorded)


def _decode_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def _stall(request: Request, seconds: float) -> bool:
    """Wait before answering; stop early (returning True) when the client hangs up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await request.is_disconnected():
            return True
        await asyncio.sleep(min(STALL_POLL_SECONDS, max(0.0, deadline - loop.time())))
    return False


async def _encoded(
    events: Iterator[tuple[str, dict[str, Any]]] | AsyncIterator[tuple[str, dict[str, Any]]],
) -> AsyncIterator[bytes]:
    if isinstance(events, Iterator):
        for event in events:
            yield sse(event)
        return
    async for event in events:
        yield sse(event)


def _error_response(error: ApiError, request_id: str) -> Response:
    return JSONResponse(
        error_body(error, request_id),
        status_code=error.status,
        headers=error_headers(error, request_id),
    )


def _event_stream(
    events: Iterator[tuple[str, dict[str, Any]]] | AsyncIterator[tuple[str, dict[str, Any]]],
    headers: dict[str, str],
) -> Response:
    return StreamingResponse(
        _encoded(events),
        media_type="text/event-stream",
        headers={**headers, "cache-control": "no-cache"},
    )
