"""auth, users, usergroups, reactions, views and apps.connections.open."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from sandbox.slack import seed
from sandbox.slack.apicall import ApiError, Call
from sandbox.slack.methods_conversations import encode_cursor, page_by_id
from sandbox.slack.views import (
    checked_view,
    exchange_trigger,
    find_view,
    open_view,
    push_view,
    update_view,
)

Json = dict[str, Any]


def auth_test(call: Call) -> Json:
    return {
        "url": seed.team_url(),
        "team": seed.TEAM_NAME,
        "user": seed.BOT_NAME,
        "team_id": seed.TEAM_ID,
        "user_id": seed.BOT_USER_ID,
        "bot_id": seed.BOT_ID,
        "is_enterprise_install": False,
    }


def users_info(call: Call) -> Json:
    user = call.ws.state.users.get(call.require("user", "user_not_found"))
    if user is None:
        raise ApiError("user_not_found")
    return {"user": copy.deepcopy(user)}


def users_list(call: Call) -> Json:
    with call.ws.state.lock:
        people = list(call.ws.state.users.values())
    start, end = page_by_id(call, [u["id"] for u in people], "user", 200, 1000)
    cursor = encode_cursor("user", people[end]["id"]) if end < len(people) else ""
    return {
        "members": copy.deepcopy(people[start:end]),
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": cursor},
    }


def users_lookup_by_email(call: Call) -> Json:
    email = call.require("email", "users_not_found")
    for user in call.ws.state.users.values():
        if user["profile"].get("email") == email:
            return {"user": copy.deepcopy(user)}
    raise ApiError("users_not_found")


def usergroups_list(call: Call) -> Json:
    groups = copy.deepcopy(list(call.ws.state.usergroups.values()))
    if not call.flag("include_users"):
        for group in groups:
            group.pop("users", None)
    return {"usergroups": groups}


def usergroups_users_list(call: Call) -> Json:
    group = call.ws.state.usergroups.get(call.require("usergroup", "no_such_subteam"))
    if group is None:
        raise ApiError("no_such_subteam")
    return {"users": list(group["users"])}


def _reacted_message(call: Call) -> tuple[Json, str]:
    channel = call.visible_channel()
    ts = call.require("timestamp", "message_not_found")
    message = call.ws.state.message(channel.id, ts)
    if message is None:
        raise ApiError("message_not_found")
    name = (call.string("name") or "").strip(":")
    if not name:
        raise ApiError("invalid_name")
    return message, name


def reactions_add(call: Call) -> Json:
    bot = call.ws.bot_user_id
    with call.ws.state.lock:
        message, name = _reacted_message(call)
        reactions: list[Json] = message.setdefault("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction is None:
            reactions.append({"name": name, "users": [bot], "count": 1})
        elif bot in reaction["users"]:
            raise ApiError("already_reacted")
        else:
            reaction["users"].append(bot)
            reaction["count"] += 1
        call.ws.state.touch()
    return {}


def reactions_remove(call: Call) -> Json:
    bot = call.ws.bot_user_id
    with call.ws.state.lock:
        message, name = _reacted_message(call)
        reactions: list[Json] = message.get("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name and bot in r["users"]), None)
        if reaction is None:
            raise ApiError("no_reaction")
        reaction["users"].remove(bot)
        reaction["count"] -= 1
        message["reactions"] = [r for r in reactions if r["count"] > 0]
        call.ws.state.touch()
    return {}


def views_open(call: Call) -> Json:
    spec = checked_view(call.json("view", "invalid_arguments"))
    trigger = exchange_trigger(
        call.ws.state, call.string("trigger_id"), call.ws.config.trigger_ttl_s
    )
    return {"view": copy.deepcopy(open_view(call.ws.state, trigger.user_id, spec))}


def views_push(call: Call) -> Json:
    spec = checked_view(call.json("view", "invalid_arguments"))
    trigger = exchange_trigger(
        call.ws.state, call.string("trigger_id"), call.ws.config.trigger_ttl_s
    )
    return {"view": copy.deepcopy(push_view(call.ws.state, trigger.user_id, spec))}


def views_update(call: Call) -> Json:
    spec = checked_view(call.json("view", "invalid_arguments"))
    record = find_view(call.ws.state, call.string("view_id"), call.string("external_id"))
    view = update_view(call.ws.state, record, spec, call.string("hash"))
    return {"view": copy.deepcopy(view)}


def apps_connections_open(call: Call) -> Json:
    ticket = call.ws.hub.issue_ticket()
    ws_base = "ws" + call.base_url.removeprefix("http")
    return {"url": f"{ws_base}/socket-mode?ticket={ticket}"}


METHODS: dict[str, Callable[[Call], Json]] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "users.lookupByEmail": users_lookup_by_email,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
    "reactions.add": reactions_add,
    "reactions.remove": reactions_remove,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "apps.connections.open": apps_connections_open,
}

# Methods that need the app-level (xapp-) token; all others take the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
