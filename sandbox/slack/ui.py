"""The page's own endpoints (/ui/...): a state snapshot to poll, and the actions people take.

Every action goes through SlackWorkspace, so it reaches the bot as a signed request on the
same path real Slack uses. Driver calls block on the bot, so they run in a worker thread.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from sandbox.slack.apicall import ApiError
from sandbox.slack.delivery import DeliveryResult
from sandbox.slack.devcontrols import DevControls
from sandbox.slack.methods_files import file_bytes
from sandbox.slack.views import top_view

if TYPE_CHECKING:
    from sandbox.slack.workspace import SlackWorkspace

Json = dict[str, Any]
STATIC = Path(__file__).parent / "static"
PAGE_ERRORS = (LookupError, PermissionError, ValueError, ApiError)


def _ws(request: Request) -> SlackWorkspace:
    ws: SlackWorkspace = request.app.state.workspace
    ws.learn_base_url(str(request.base_url))
    return ws


def snapshot(ws: SlackWorkspace, user_id: str) -> Json:
    """Everything the page draws for `user_id`."""
    state = ws.state
    with state.lock:
        channels = [
            c
            for c in state.channels.values()
            if user_id in c.members or (not c.is_private and not c.is_im)
        ]
        record = top_view(state, user_id)
        recent = ws.deliveries()[-20:]
        return {
            "version": state.version,
            "team": {"id": "T0OPSBOT", "domain": "opsbot-dev"},
            "me": user_id,
            "bot_user_id": ws.bot_user_id,
            "users": {
                u["id"]: {
                    "id": u["id"],
                    "name": u["name"],
                    "real_name": u.get("real_name", u["name"]),
                    "is_bot": u.get("is_bot", False),
                }
                for u in state.users.values()
            },
            "channels": [
                {
                    "id": c.id,
                    "name": c.name,
                    "is_private": c.is_private,
                    "is_im": c.is_im,
                    "im_user": c.im_user,
                    "is_member": user_id in c.members,
                    "is_archived": c.is_archived,
                    "purpose": c.purpose,
                }
                for c in channels
            ],
            "messages": {c.id: copy.deepcopy(list(state.history[c.id].values())) for c in channels},
            "ephemerals": [
                copy.deepcopy(e.message) | {"channel": e.channel_id}
                for e in state.ephemerals
                if e.user_id == user_id
            ],
            "view": copy.deepcopy(record.view) | {"errors": record.errors} if record else None,
            "usergroups": {
                g["id"]: {"id": g["id"], "handle": g["handle"], "name": g.get("name", "")}
                for g in state.usergroups.values()
            },
            "dev": ws.dev_controls.snapshot() if ws.dev_controls else None,
            "deliveries": [
                {"kind": d.kind, "status": d.result.status, "error": d.result.error, "at": d.at}
                for d in recent
            ],
        }


async def page(request: Request) -> Response:
    _ws(request)
    return FileResponse(STATIC / "index.html")


async def state_endpoint(request: Request) -> Response:
    ws = _ws(request)
    user_id = request.query_params.get("user", "U0ALICE")
    since = request.query_params.get("since")
    if since is not None and since == str(ws.state.version):
        return JSONResponse({"version": ws.state.version, "unchanged": True})
    return JSONResponse(snapshot(ws, user_id))


def _delivery_json(result: DeliveryResult | None) -> Json | None:
    if result is None:
        return None
    return {"ok": result.ok, "status": result.status, "error": result.error, "body": result.body}


async def _body(request: Request) -> Json:
    try:
        loaded = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _send(ws: SlackWorkspace, body: Json) -> Json:
    user, channel, text = str(body["user"]), str(body["channel"]), str(body.get("text", ""))
    thread_ts = body.get("thread_ts") or None
    if text.startswith("/") and not thread_ts:
        command, _, rest = text.partition(" ")
        return {"delivery": _delivery_json(ws.slash_command(user, channel, command, rest.strip()))}
    message = ws.post_message(user, channel, text, thread_ts)
    return {"ts": message["ts"]}


def _action(ws: SlackWorkspace, body: Json) -> Json:
    user, action_id = str(body["user"]), str(body["action_id"])
    block_id, value = body.get("block_id"), body.get("value")
    if body.get("view_id"):
        return {
            "delivery": _delivery_json(
                ws.click_view_button(user, body["view_id"], action_id, block_id)
            )
        }
    channel, ts = str(body["channel"]), str(body["message_ts"])
    if value is not None:
        result = ws.select_option(user, channel, ts, action_id, value, block_id)
    else:
        result = ws.click_button(user, channel, ts, action_id, block_id)
    return {"delivery": _delivery_json(result)}


def _submit(ws: SlackWorkspace, body: Json) -> Json:
    result = ws.submit_view(str(body["user"]), str(body["view_id"]), body.get("values") or {})
    return {"delivery": _delivery_json(result)}


def _close(ws: SlackWorkspace, body: Json) -> Json:
    return {"delivery": _delivery_json(ws.close_view(str(body["user"]), str(body["view_id"])))}


def _controls(ws: SlackWorkspace) -> DevControls:
    if ws.dev_controls is None:
        raise ValueError("this workspace has no world to control")
    return ws.dev_controls


def _start_incident(ws: SlackWorkspace, body: Json) -> Json:
    return _controls(ws).start_scenario(str(body["scenario"]))


def _reset_world(ws: SlackWorkspace, body: Json) -> Json:
    return _controls(ws).reset_world()


def _react(ws: SlackWorkspace, body: Json) -> Json:
    ws.add_reaction(str(body["user"]), str(body["channel"]), str(body["ts"]), str(body["name"]))
    return {}


UI_ACTIONS = {
    "send": _send,
    "action": _action,
    "submit": _submit,
    "close": _close,
    "react": _react,
    "start-incident": _start_incident,
    "reset-world": _reset_world,
}


async def action_endpoint(request: Request) -> Response:
    ws = _ws(request)
    handler = UI_ACTIONS.get(request.path_params["name"])
    if handler is None:
        return JSONResponse({"ok": False, "error": "unknown_action"}, status_code=404)
    body = await _body(request)
    try:
        result = await run_in_threadpool(handler, ws, body)
    except KeyError as missing:
        return JSONResponse({"ok": False, "error": f"missing {missing}"}, status_code=400)
    except PAGE_ERRORS as error:
        return JSONResponse({"ok": False, "error": str(error)}, status_code=400)
    return JSONResponse({"ok": True, **result})


async def file_endpoint(request: Request) -> Response:
    return file_bytes(_ws(request).state, request.path_params["file_id"])


async def permalink_endpoint(request: Request) -> Response:
    channel, packed = request.path_params["channel"], request.path_params["packed"]
    ts = f"{packed[1:-6]}.{packed[-6:]}" if packed.startswith("p") and len(packed) > 7 else ""
    thread_ts = request.query_params.get("thread_ts", "")
    return RedirectResponse(f"/#channel={channel}&ts={ts}&thread={thread_ts}", status_code=302)
