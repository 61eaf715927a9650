"""Sandbox control endpoints (not part of the Messages API), for out-of-process use.

- `POST /sandbox/script`: `{"name": "x"}` activates a loaded script; `{"script": {...}}` adds
  one (format of `script_from_dict`) and activates it; `"api_key"` binds a key to it.
- `GET /sandbox/requests`: the recorded requests; `GET /sandbox/expectations`: failed
  expectations; `POST /sandbox/reset`: rewind scripts and forget what was recorded.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.claude.script import ScriptError, script_from_dict

if TYPE_CHECKING:
    from sandbox.claude.app import ClaudeSandbox


def admin_routes(sandbox: ClaudeSandbox) -> list[Route]:
    async def choose_script(request: Request) -> Response:
        try:
            body: Any = json.loads(await request.body())
            if "script" in body:
                script = sandbox.add_script(script_from_dict(body["script"]), activate=True)
                name = script.name
            else:
                name = str(body["name"])
                sandbox.activate(name)
            if body.get("api_key"):
                sandbox.book.bind_key(str(body["api_key"]), name)
                sandbox.api_keys.add(str(body["api_key"]))
        except (ValueError, KeyError, TypeError, ScriptError) as err:
            return JSONResponse({"ok": False, "error": str(err)}, status_code=400)
        return JSONResponse({"ok": True, "name": name, "remaining": sandbox.remaining_turns(name)})

    async def requests(request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "index": r.index,
                    "path": r.path,
                    "headers": dict(r.headers),
                    "body": r.body,
                    "request_id": r.request_id,
                    "script": r.script,
                    "turn_index": r.turn_index,
                    "status": r.status,
                    "error_message": r.error_message,
                }
                for r in sandbox.requests
            ]
        )

    async def expectations(request: Request) -> Response:
        return JSONResponse([vars(failure) for failure in sandbox.expectation_failures])

    async def reset(request: Request) -> Response:
        sandbox.reset()
        return JSONResponse({"ok": True})

    return [
        Route("/sandbox/script", choose_script, methods=["POST"]),
        Route("/sandbox/requests", requests, methods=["GET"]),
        Route("/sandbox/expectations", expectations, methods=["GET"]),
        Route("/sandbox/reset", reset, methods=["POST"]),
    ]
