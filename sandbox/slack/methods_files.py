"""File uploads the v2 way: getUploadURLExternal, POST the bytes, completeUploadExternal."""

from __future__ import annotations

import copy
import mimetypes
import secrets
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from sandbox.slack import seed
from sandbox.slack.apicall import ApiError, Call
from sandbox.slack.methods_chat import ensure_writable
from sandbox.slack.records import FileRecord
from sandbox.slack.state import WorkspaceState

Json = dict[str, Any]
FILETYPES = {"txt": "text", "log": "text", "md": "markdown", "py": "python", "yml": "yaml"}


def multipart_parts(body: bytes, content_type: str) -> list[tuple[str, str | None, bytes]]:
    """(field name, file name, bytes) of each part of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    parsed = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not isinstance(parsed, EmailMessage) or not parsed.is_multipart():
        return []
    parts: list[tuple[str, str | None, bytes]] = []
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        parts.append((str(name or ""), part.get_filename(), data))
    return parts


def file_json(file: FileRecord, state: WorkspaceState, base_url: str) -> Json:
    ext = file.name.rsplit(".", 1)[-1].lower() if "." in file.name else ""
    url_private = f"{base_url}/files-pri/{seed.TEAM_ID}-{file.id}/{file.name}"
    shares: dict[str, list[Json]] = {}
    for channel_id, ts in file.shares:
        channel = state.channels[channel_id]
        scope = "private" if channel.is_private else "public"
        shares.setdefault(scope, []).append({"channel": channel_id, "ts": ts})
    data: Json = {
        "id": file.id,
        "created": file.created,
        "timestamp": file.created,
        "name": file.name,
        "title": file.title or file.name,
        "mimetype": file.mimetype,
        "filetype": FILETYPES.get(ext, ext or "binary"),
        "pretty_type": (ext or "binary").upper(),
        "user": file.user_id,
        "user_team": seed.TEAM_ID,
        "editable": False,
        "size": len(file.data) if file.data is not None else file.length,
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": "public" in shares,
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": url_private,
        "url_private_download": url_private.replace(f"/{file.name}", f"/download/{file.name}"),
        "permalink": f"{base_url}/files/{file.user_id}/{file.id}/{file.name}",
        "permalink_public": f"{base_url}/files-pri/{seed.TEAM_ID}-{file.id}/{file.name}?pub=1",
        "comments_count": 0,
        "is_starred": False,
        "shares": {
            scope: {s["channel"]: [{"ts": s["ts"], "share_user_id": file.user_id}] for s in items}
            for scope, items in shares.items()
        },
        "channels": [c for c, _ in file.shares if not state.channels[c].is_private],
        "groups": [c for c, _ in file.shares if state.channels[c].is_private],
        "ims": [],
        "has_rich_preview": False,
        "file_access": "visible",
    }
    if file.alt_txt:
        data["alt_txt"] = file.alt_txt
    if file.mimetype.startswith("image/"):
        data["thumb_360"] = url_private
    return data


def get_upload_url(call: Call) -> Json:
    state = call.ws.state
    name = call.require("filename")
    length = call.integer("length", 0)
    if length <= 0:
        raise ApiError("invalid_arguments")
    file = FileRecord(
        id=state.ids.next("F"),
        name=name,
        length=length,
        user_id=call.ws.bot_user_id,
        created=int(time.time()),
        alt_txt=call.string("alt_txt"),
        upload_token=secrets.token_urlsafe(16),
        mimetype=mimetypes.guess_type(name)[0] or "application/octet-stream",
    )
    with state.lock:
        state.files[file.id] = file
    return {"upload_url": f"{call.base_url}/upload/v1/{file.upload_token}", "file_id": file.id}


def complete_upload(call: Call) -> Json:
    state = call.ws.state
    wanted = call.json("files", "invalid_arguments")
    if not isinstance(wanted, list) or not wanted:
        raise ApiError("invalid_arguments")
    with state.lock:
        records: list[FileRecord] = []
        for item in wanted:
            record = state.files.get(str(item.get("id")) if isinstance(item, dict) else "")
            if record is None or record.data is None:
                raise ApiError("file_not_found")
            record.title = item.get("title") or record.title or record.name
            records.append(record)
        channel_ids = [c for c in (call.string("channels") or "").split(",") if c]
        if call.string("channel_id"):
            channel_ids.append(call.require("channel_id"))
        for channel_id in channel_ids:
            call.args["channel"] = channel_id
            channel = call.visible_channel()
            ensure_writable(call, channel)
            _share(call, channel.id, records)
        return {"files": [file_json(r, state, call.base_url) for r in records]}


def _share(call: Call, channel_id: str, records: list[FileRecord]) -> None:
    state = call.ws.state
    message: Json = {
        "type": "message",
        "text": call.string("initial_comment") or "",
        "user": call.ws.bot_user_id,
        "bot_id": seed.BOT_ID,
        "upload": True,
        "display_as_bot": False,
        "files": [],
    }
    thread_ts = call.string("thread_ts")
    if thread_ts:
        root = state.thread_root(channel_id, thread_ts)
        if root is None:
            raise ApiError("thread_not_found")
        message["thread_ts"] = root
    stored = state.add_message(channel_id, message)
    for record in records:
        record.shares.append((channel_id, stored["ts"]))
    stored["files"] = [file_json(r, state, call.base_url) for r in records]
    call.ws.publish_message_events(channel_id, stored)


def files_info(call: Call) -> Json:
    record = call.ws.state.files.get(call.require("file", "file_not_found"))
    if record is None or record.data is None:
        raise ApiError("file_not_found")
    return {"file": copy.deepcopy(file_json(record, call.ws.state, call.base_url))}


METHODS: dict[str, Callable[[Call], Json]] = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
    "files.info": files_info,
}


async def receive_upload(request: Request, state: WorkspaceState) -> Response:
    """The upload URL: raw bytes (what slack_sdk sends) or a multipart form with a file part."""
    token = request.path_params["token"]
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        parts = multipart_parts(body, content_type)
        chosen = next((p for p in parts if p[1] is not None or p[0] == "file"), None)
        body = chosen[2] if chosen else b""
    with state.lock:
        record = next((f for f in state.files.values() if f.upload_token == token), None)
        if record is None:
            return PlainTextResponse("Not Found", status_code=404)
        record.data = body
    return PlainTextResponse(f"OK - {len(body)}")


def file_bytes(state: WorkspaceState, file_id: str) -> Response:
    record = state.files.get(file_id)
    if record is None or record.data is None:
        return PlainTextResponse("Not Found", status_code=404)
    return Response(record.data, media_type=record.mimetype)
