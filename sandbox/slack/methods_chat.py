"""chat.* methods: post, update, delete, ephemeral messages and permalinks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sandbox.slack import seed
from sandbox.slack.apicall import ApiError, Call
from sandbox.slack.blocks import normalize_blocks, total_text_length, validate_blocks
from sandbox.slack.messages import NO_TEXT_FALLBACK, bot_message, ephemeral_message
from sandbox.slack.state import Channel

Json = dict[str, Any]
MAX_TEXT = 40_000
THREAD_FIELDS = ("reply_count", "reply_users", "reply_users_count", "latest_reply", "is_locked")


def check_content(text: Any, blocks: Any, attachments: Any, *, blocks_limit: int) -> None:
    """Slack's checks on a message body: no_text, msg_too_long, invalid_blocks, ..."""
    if not text and not blocks and not attachments:
        raise ApiError("no_text")
    if isinstance(text, str) and len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    if attachments is not None and not isinstance(attachments, list):
        raise ApiError("invalid_attachments")
    if blocks is not None:
        problems = validate_blocks(blocks)
        if problems:
            raise ApiError(
                "invalid_blocks",
                extra={
                    "errors": [p.removeprefix("[ERROR] ") for p in problems],
                    "response_metadata": {"messages": problems},
                },
            )
        if total_text_length(blocks) > blocks_limit:
            raise ApiError("msg_blocks_too_long")


def _read_content(call: Call) -> tuple[str | None, list[Any] | None, list[Any] | None]:
    text = call.string("text")
    blocks = call.json("blocks", "invalid_blocks_format")
    attachments = call.json("attachments", "invalid_attachments")
    limit = call.ws.config.blocks_total_text_limit
    check_content(text, blocks, attachments, blocks_limit=limit)
    return text, blocks, attachments


def ensure_writable(call: Call, channel: Channel) -> None:
    if channel.is_archived:
        raise ApiError("is_archived")
    member = call.ws.bot_user_id in channel.members
    public_ok = not channel.is_private and call.ws.config.chat_write_public
    if not member and not public_ok:
        raise ApiError("not_in_channel")


def _public_view(message: Json) -> Json:
    shown = copy.deepcopy(message)
    for key in THREAD_FIELDS:
        shown.pop(key, None)
    return shown


def post_message(call: Call) -> Json:
    state = call.ws.state
    channel = call.visible_channel()
    ensure_writable(call, channel)
    text, blocks, attachments = _read_content(call)
    message = bot_message(text, normalize_blocks(blocks) if blocks else blocks, attachments)
    for key in ("username", "icon_emoji", "icon_url"):
        if call.string(key):
            message[key] = call.string(key)
    metadata = call.json("metadata", "invalid_metadata_format")
    if isinstance(metadata, dict):
        message["metadata"] = metadata
    thread_ts = call.string("thread_ts")
    with state.lock:
        if thread_ts:
            root = state.thread_root(channel.id, thread_ts)
            if root is None:
                raise ApiError("thread_not_found")
            message["thread_ts"] = root
            if call.flag("reply_broadcast"):
                message["subtype"] = "thread_broadcast"
        stored = state.add_message(channel.id, message)
        shown = _public_view(stored)
    call.ws.publish_message_events(channel.id, stored)
    return {"channel": channel.id, "ts": stored["ts"], "message": shown}


def _own_message(call: Call, channel: Channel, ts_arg: str, refused: str) -> Json:
    ts = call.require(ts_arg, "message_not_found")
    message = call.ws.state.message(channel.id, ts)
    if message is None or message.get("subtype") == "tombstone":
        raise ApiError("message_not_found")
    if message.get("bot_id") != seed.BOT_ID:
        raise ApiError(refused)
    return message


def update(call: Call) -> Json:
    state = call.ws.state
    channel = call.visible_channel()
    message = _own_message(call, channel, "ts", "cant_update_message")
    if channel.is_archived:
        raise ApiError("is_archived")
    text, blocks, attachments = _read_content(call)
    with state.lock:
        if text is not None:
            message["text"] = text
        elif "text" not in call.args and blocks and not message.get("text"):
            message["text"] = NO_TEXT_FALLBACK
        if blocks is not None:
            message["blocks"] = normalize_blocks(blocks)
        if attachments is not None:
            message["attachments"] = attachments
        message["edited"] = {"user": seed.BOT_USER_ID, "ts": state.clock.next()}
        state.touch()
        shown = _public_view(message)
    return {"channel": channel.id, "ts": message["ts"], "text": message["text"], "message": shown}


def delete(call: Call) -> Json:
    channel = call.visible_channel()
    message = _own_message(call, channel, "ts", "cant_delete_message")
    call.ws.state.remove_message(channel.id, message["ts"])
    return {"channel": channel.id, "ts": message["ts"]}


def post_ephemeral(call: Call) -> Json:
    state = call.ws.state
    channel = call.visible_channel()
    user_id = call.require("user", "user_not_found")
    if user_id not in state.users:
        raise ApiError("user_not_found")
    if user_id not in channel.members:
        raise ApiError("user_not_in_channel")
    ensure_writable(call, channel)
    text, blocks, _ = _read_content(call)
    message = ephemeral_message(text or "", normalize_blocks(blocks) if blocks else None)
    thread_ts = call.string("thread_ts")
    if thread_ts:
        message["thread_ts"] = state.thread_root(channel.id, thread_ts) or thread_ts
    stored = state.add_ephemeral(channel.id, user_id, message)
    return {"message_ts": stored["ts"]}


def get_permalink(call: Call) -> Json:
    channel = call.visible_channel()
    ts = call.require("message_ts", "message_not_found")
    root = call.ws.state.thread_root(channel.id, ts)
    if root is None:
        raise ApiError("message_not_found")
    link = f"{call.base_url}/archives/{channel.id}/p{ts.replace('.', '')}"
    if root != ts:
        link += f"?thread_ts={root}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


METHODS: dict[str, Callable[[Call], Json]] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
}
