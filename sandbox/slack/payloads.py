"""What Slack sends the app: slash command forms, interaction payloads and event envelopes."""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Mapping
from typing import Any

from sandbox.slack import seed

Json = dict[str, Any]


def user_ref(user: Json) -> Json:
    return {
        "id": user["id"],
        "username": user["name"],
        "name": user["name"],
        "team_id": seed.TEAM_ID,
    }


def team_ref() -> Json:
    return {"id": seed.TEAM_ID, "domain": seed.TEAM_DOMAIN}


def slash_command_form(
    *,
    token: str,
    user: Json,
    channel_id: str,
    channel_name: str,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command, in the order Slack sends them."""
    return {
        "token": token,
        "team_id": seed.TEAM_ID,
        "team_domain": seed.TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user["id"],
        "user_name": user["name"],
        "command": command,
        "text": text,
        "api_app_id": seed.APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def action_of(element: Json, block_id: str, selected: str | list[str] | None = None) -> Json:
    """The `actions[]` entry for a clicked button or a chosen option."""
    action: Json = {"action_id": element.get("action_id"), "block_id": block_id}
    kind = element.get("type")
    if kind == "button":
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
    else:
        chosen = _typed_value(element, selected)
        chosen.pop("type", None)
        action.update(chosen)
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
    action["type"] = kind
    action["action_ts"] = f"{time.time():.6f}"
    return action


def block_actions(
    *,
    token: str,
    user: Json,
    trigger_id: str,
    action: Json,
    container: Json,
    channel: Json | None = None,
    message: Json | None = None,
    response_url: str | None = None,
    view: Json | None = None,
) -> Json:
    payload: Json = {
        "type": "block_actions",
        "user": user_ref(user),
        "api_app_id": seed.APP_ID,
        "token": token,
        "container": container,
        "trigger_id": trigger_id,
        "team": team_ref(),
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        payload["view"] = view
    if channel is not None:
        payload["channel"] = channel
    if message is not None:
        payload["message"] = message
    payload["state"] = {"values": {}}
    if response_url is not None:
        payload["response_url"] = response_url
    payload["actions"] = [action]
    return payload


def view_submission(*, token: str, user: Json, trigger_id: str, view: Json) -> Json:
    return {
        "type": "view_submission",
        "team": team_ref(),
        "user": user_ref(user),
        "api_app_id": seed.APP_ID,
        "token": token,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed(*, token: str, user: Json, view: Json, is_cleared: bool) -> Json:
    return {
        "type": "view_closed",
        "team": team_ref(),
        "user": user_ref(user),
        "api_app_id": seed.APP_ID,
        "token": token,
        "view": view,
        "is_cleared": is_cleared,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def _typed_value(element: Json, raw: Any) -> Json:
    """One element's entry in view.state.values, from a plain value (str or list of str)."""
    kind = str(element.get("type"))
    if isinstance(raw, Mapping) and "type" in raw:
        return dict(raw)
    options = {o.get("value"): o for o in element.get("options") or [] if isinstance(o, dict)}
    many = [raw] if isinstance(raw, str) else list(raw or [])
    selected = {
        "users_select": "selected_user",
        "conversations_select": "selected_conversation",
        "channels_select": "selected_channel",
        "datepicker": "selected_date",
        "timepicker": "selected_time",
    }
    entry: Json = {"type": kind}
    if kind in ("static_select", "external_select", "radio_buttons", "overflow"):
        entry["selected_option"] = options.get(raw) if raw else None
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        entry["selected_options"] = [options[v] for v in many if v in options]
    elif kind in selected:
        entry[selected[kind]] = raw or None
    elif kind.startswith("multi_") and kind.endswith("_select"):
        noun = kind.removeprefix("multi_").removesuffix("_select")
        entry[f"selected_{noun}"] = many
    else:
        entry["value"] = raw if raw not in ("", None) else None
    return entry


def _empty(raw: Any) -> bool:
    return raw is None or raw in ("", [])


def state_values(blocks: list[Any], values: Mapping[str, Mapping[str, Any]]) -> Json:
    """view.state.values for a submission; raises ValueError if a required input is empty."""
    state: Json = {}
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") != "input":
            continue
        element = block.get("element") or {}
        block_id, action_id = str(block.get("block_id")), str(element.get("action_id"))
        raw = values.get(block_id, {}).get(action_id)
        if raw is None and "initial_value" in element:
            raw = element["initial_value"]
        if _empty(raw) and not block.get("optional", False):
            raise ValueError(f"input {block_id}/{action_id} is required")
        state[block_id] = {action_id: _typed_value(element, raw)}
    return state


def event_envelope(event: Json, *, token: str, event_id: str) -> Json:
    """The event_callback body around one event, as the Events API delivers it."""
    context = {"et": event.get("type"), "tid": seed.TEAM_ID, "aid": seed.APP_ID}
    if "channel" in event:
        context["cid"] = event["channel"]
    encoded = base64.urlsafe_b64encode(json.dumps(context).encode()).decode().rstrip("=")
    return {
        "token": token,
        "team_id": seed.TEAM_ID,
        "context_team_id": seed.TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": seed.APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": seed.TEAM_ID,
                "user_id": seed.BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{encoded}",
    }


def message_event(message: Json, channel_id: str, channel_type: str) -> Json:
    """A `message` event for a stored message."""
    event = copy.deepcopy(message)
    for key in ("reply_count", "reply_users", "reply_users_count", "latest_reply", "reactions"):
        event.pop(key, None)
    event.update({"channel": channel_id, "event_ts": message["ts"], "channel_type": channel_type})
    return event


def app_mention_event(message: Json, channel_id: str) -> Json:
    event: Json = {"type": "app_mention"}
    for key in ("user", "text", "ts", "client_msg_id", "team", "blocks", "thread_ts"):
        if key in message:
            event[key] = copy.deepcopy(message[key])
    event.update({"channel": channel_id, "event_ts": message["ts"]})
    return event
