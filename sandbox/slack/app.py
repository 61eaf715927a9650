"""create_app: one Starlette app for the Web API, Socket Mode, response URLs, files, the page."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from sandbox.slack import ui
from sandbox.slack.acks import respond
from sandbox.slack.apicall import ApiCall
from sandbox.slack.methods_files import file_bytes, receive_upload
from sandbox.slack.webapi import api_endpoint
from sandbox.slack.workspace import SlackWorkspace


def create_app(workspace: SlackWorkspace) -> Starlette:
    async def upload(request: Request) -> Response:
        return await receive_upload(request, workspace.state)

    async def private_file(request: Request) -> Response:
        """url_private: needs the bot token, as on files.slack.com."""
        if request.headers.get("authorization") != f"Bearer {workspace.config.bot_token}":
            return PlainTextResponse("Forbidden", status_code=403)
        file_id = request.path_params["team_file"].rpartition("-")[2]
        return file_bytes(workspace.state, file_id)

    async def response_url(request: Request) -> Response:
        key = "/".join(request.path_params[k] for k in ("team", "n", "secret"))
        raw = await request.body()
        try:
            answer = json.loads(raw or b"null")
        except ValueError:
            answer = None
        failure = workspace.failures.next_failure("response_url")
        headers: dict[str, str] = {}
        if failure is not None and failure.status != 200:  # a gateway's failure: no use taken
            await asyncio.sleep(failure.delay_s)
            status, body = failure.status, {"ok": False, "error": failure.error}
            if failure.status == 429:
                headers["Retry-After"] = str(failure.retry_after)
        else:
            status, body = respond(workspace, key, answer)
        logged = answer if isinstance(answer, dict) else {"raw": raw.decode(errors="replace")}
        content_type = request.headers.get("content-type", "").split(";")[0]
        workspace.call_log.append(ApiCall("response_url", content_type, logged, body, status))
        return JSONResponse(body, status_code=status, headers=headers)

    async def socket_mode(websocket: WebSocket) -> None:
        await workspace.hub.endpoint(websocket)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await workspace.hub.aclose_all()

    routes = [
        Route("/api/{method}", api_endpoint, methods=["GET", "POST"]),
        Route("/upload/v1/{token}", upload, methods=["POST"]),
        Route("/files-pri/{team_file}/{name:path}", private_file),
        Route("/response/{team}/{n}/{secret}", response_url, methods=["POST"]),
        WebSocketRoute("/socket-mode", socket_mode),
        Route("/", ui.page),
        Route("/ui/state", ui.state_endpoint),
        Route("/ui/files/{file_id}", ui.file_endpoint),
        Route("/ui/{name}", ui.action_endpoint, methods=["POST"]),
        Route("/archives/{channel}/{packed}", ui.permalink_endpoint),
        Mount("/static", StaticFiles(directory=ui.STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.workspace = workspace
    return app
