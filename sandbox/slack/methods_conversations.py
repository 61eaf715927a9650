"""conversations.*: create, join, invite, open, archive, info, list, members, history, replies."""

from __future__ import annotations

import base64
import binascii
import copy
import re
import time
from collections.abc import Callable
from typing import Any

from sandbox.slack.apicall import ApiError, Call
from sandbox.slack.ids import ts_to_float
from sandbox.slack.state import Channel

Json = dict[str, Any]
CHANNEL_NAME = re.compile(r"^[a-z0-9_\-]+$")
CHANNEL_NAME_MAX = 80


def encode_cursor(kind: str, value: str) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str | None, kind: str) -> str | None:
    if not cursor:
        return None
    try:
        prefix, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError("invalid_cursor") from exc
    if prefix != kind or not value:
        raise ApiError("invalid_cursor")
    return value


def page_by_id(call: Call, ids: list[str], kind: str, default: int, most: int) -> tuple[int, int]:
    """Slice bounds for id-ordered lists (conversations.list, users.list) and the next cursor."""
    start_id = decode_cursor(call.string("cursor"), kind)
    if start_id is not None and start_id not in ids:
        raise ApiError("invalid_cursor")
    start = ids.index(start_id) if start_id is not None else 0
    limit = call.integer("limit", default) or default
    return start, start + min(limit, most)


def _validate_name(call: Call, name: str) -> None:
    if not name:
        raise ApiError("invalid_name_required")
    if len(name) > CHANNEL_NAME_MAX:
        raise ApiError("invalid_name_maxlength")
    if not CHANNEL_NAME.match(name):
        raise ApiError("invalid_name_specials")
    if not name.strip("-_"):
        raise ApiError("invalid_name_punctuation")
    if call.ws.state.channel_named(name) is not None:
        raise ApiError("name_taken")


def create(call: Call) -> Json:
    state = call.ws.state
    name = call.string("name") or ""
    with state.lock:
        _validate_name(call, name)
        channel = Channel(
            id=state.ids.next("C"),
            name=name,
            created=int(time.time()),
            creator=call.ws.bot_user_id,
            is_private=call.flag("is_private"),
            members={call.ws.bot_user_id},
        )
        state.add_channel(channel)
    return {"channel": channel.to_json(call.ws.bot_user_id) | {"priority": 0}}


def _add_member(call: Call, channel: Channel, user_id: str) -> None:
    channel.members.add(user_id)
    joined = {
        "type": "message",
        "subtype": "channel_join",
        "user": user_id,
        "text": f"<@{user_id}> has joined the channel",
    }
    if channel.is_private:
        joined["subtype"] = "group_join"
    stored = call.ws.state.add_message(channel.id, joined)
    call.ws.publish_message_events(channel.id, stored)


def join(call: Call) -> Json:
    channel = call.visible_channel()
    if channel.is_im or channel.is_private:
        raise ApiError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise ApiError("is_archived")
    bot = call.ws.bot_user_id
    with call.ws.state.lock:
        already = bot in channel.members
        if not already:
            _add_member(call, channel, bot)
        result: Json = {"channel": channel.to_json(bot)}
    if already:
        result |= {
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    return result


def invite(call: Call) -> Json:
    state, bot = call.ws.state, call.ws.bot_user_id
    channel = call.visible_channel()
    if channel.is_archived:
        raise ApiError("is_archived")
    if bot not in channel.members:
        raise ApiError("not_in_channel")
    user_ids = [u.strip() for u in (call.string("users") or "").split(",") if u.strip()]
    if not user_ids:
        raise ApiError("no_user")
    with state.lock:
        failures: list[Json] = []
        for user_id in user_ids:
            problem = (
                "cant_invite_self"
                if user_id == bot
                else "user_not_found"
                if user_id not in state.users
                else "already_in_channel"
                if user_id in channel.members
                else None
            )
            if problem:
                failures.append({"user": user_id, "ok": False, "error": problem})
        if failures and not call.flag("force"):
            raise ApiError(failures[0]["error"], extra={"errors": failures})
        failed = {f["user"] for f in failures}
        for user_id in user_ids:
            if user_id not in failed:
                _add_member(call, channel, user_id)
        result: Json = {"channel": channel.to_json(bot)}
    if failures:
        result["errors"] = failures
    return result


def open_conversation(call: Call) -> Json:
    users = [u for u in (call.string("users") or "").split(",") if u]
    if len(users) != 1:
        raise ApiError("not_enough_users" if not users else "too_many_users")
    if users[0] not in call.ws.state.users:
        raise ApiError("user_not_found")
    channel = call.ws.state.im_with(users[0])
    if call.flag("return_im"):
        return {"channel": channel.to_json(call.ws.bot_user_id)}
    return {"channel": {"id": channel.id}}


def archive(call: Call) -> Json:
    channel = call.visible_channel()
    if channel.is_archived:
        raise ApiError("already_archived")
    if channel.is_general:
        raise ApiError("cant_archive_general")
    channel.is_archived = True
    call.ws.state.touch()
    return {}


def info(call: Call) -> Json:
    channel = call.visible_channel()
    members = call.flag("include_num_members")
    return {"channel": channel.to_json(call.ws.bot_user_id, num_members=members)}


def list_conversations(call: Call) -> Json:
    types = set((call.string("types") or "public_channel").split(","))
    bot = call.ws.bot_user_id
    with call.ws.state.lock:
        visible = [
            c
            for c in call.ws.state.channels.values()
            if (c.is_im and "im" in types and bot in c.members)
            or (not c.is_im and c.is_private and "private_channel" in types and bot in c.members)
            or (not c.is_im and not c.is_private and "public_channel" in types)
        ]
        if call.flag("exclude_archived"):
            visible = [c for c in visible if not c.is_archived]
        start, end = page_by_id(call, [c.id for c in visible], "team", 100, 1000)
        page = [c.to_json(bot, num_members=not c.is_im) for c in visible[start:end]]
    cursor = encode_cursor("team", visible[end].id) if end < len(visible) else ""
    return {"channels": page, "response_metadata": {"next_cursor": cursor}}


def members(call: Call) -> Json:
    channel = call.visible_channel()
    ids = sorted(channel.members)
    start, end = page_by_id(call, ids, "user", 100, 1000)
    cursor = encode_cursor("user", ids[end]) if end < len(ids) else ""
    return {"members": ids[start:end], "response_metadata": {"next_cursor": cursor}}


def _readable(call: Call) -> Channel:
    channel = call.visible_channel()
    if call.ws.bot_user_id not in channel.members:
        raise ApiError("not_in_channel")
    return channel


def _ts_bound(call: Call, name: str, error: str, default: float) -> float:
    raw = call.string(name)
    if not raw:
        return default
    value = ts_to_float(raw)
    if value < 0:
        raise ApiError(error)
    return value


def _window(call: Call, messages: list[Json], *, newest_first: bool) -> Json:
    """Filter by oldest/latest, then page with a next_ts cursor, as history and replies do."""
    oldest = _ts_bound(call, "oldest", "invalid_ts_oldest", 0.0)
    latest = _ts_bound(call, "latest", "invalid_ts_latest", float("inf"))
    inclusive = call.flag("inclusive")
    chosen = [
        m
        for m in messages
        if (oldest <= float(m["ts"]) <= latest)
        and (inclusive or float(m["ts"]) not in (oldest, latest))
    ]
    if newest_first:
        chosen.reverse()
    cursor_ts = decode_cursor(call.string("cursor"), "next_ts")
    if cursor_ts is not None:
        keys = [m["ts"].replace(".", "") for m in chosen]
        if cursor_ts not in keys:
            raise ApiError("invalid_cursor")
        chosen = chosen[keys.index(cursor_ts) :]
    limit = min(call.integer("limit", 100) or 100, 999)
    page, rest = chosen[:limit], chosen[limit:]
    result: Json = {"messages": copy.deepcopy(page), "has_more": bool(rest)}
    if rest:
        result["response_metadata"] = {
            "next_cursor": encode_cursor("next_ts", rest[0]["ts"].replace(".", ""))
        }
    return result


def history(call: Call) -> Json:
    channel = _readable(call)
    with call.ws.state.lock:
        window = _window(call, call.ws.state.top_level(channel.id), newest_first=True)
    return window | {"pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0}


def replies(call: Call) -> Json:
    channel = _readable(call)
    ts = call.require("ts", "thread_not_found")
    with call.ws.state.lock:
        root = call.ws.state.thread_root(channel.id, ts)
        if root is None:
            raise ApiError("thread_not_found")
        return _window(call, call.ws.state.thread(channel.id, root), newest_first=False)


METHODS: dict[str, Callable[[Call], Json]] = {
    "conversations.create": create,
    "conversations.join": join,
    "conversations.invite": invite,
    "conversations.open": open_conversation,
    "conversations.archive": archive,
    "conversations.info": info,
    "conversations.list": list_conversations,
    "conversations.members": members,
    "conversations.history": history,
    "conversations.replies": replies,
}
