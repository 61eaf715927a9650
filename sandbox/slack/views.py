"""Modals: the view objects Slack keeps, each user's stack of open views, and triggers."""

from __future__ import annotations

import secrets
import time
from typing import Any

from sandbox.slack import seed
from sandbox.slack.apicall import ApiError
from sandbox.slack.blocks import MODAL_MAX_BLOCKS, Problems, normalize_blocks, validate_blocks
from sandbox.slack.records import Trigger, ViewRecord
from sandbox.slack.state import WorkspaceState

Json = dict[str, Any]
MAX_STACK = 3


def validate_view(view: Any) -> list[str]:
    """Problems with a modal view (views.open/update/push and response_action payloads)."""
    p = Problems()
    if not isinstance(view, dict):
        p.add("must provide an object", "/view")
        return p.messages
    if view.get("type") not in ("modal", "home"):
        p.add("must be a valid enum value", "/view/type")
    if view.get("type") == "modal":
        p.text(view, "title", "/view", 24, plain=True)
    for key in ("submit", "close"):
        p.text(view, key, "/view", 24, plain=True, required=False)
    p.string(view, "private_metadata", "/view", 3000)
    p.string(view, "callback_id", "/view", 255)
    p.string(view, "external_id", "/view", 255)
    if "blocks" not in view:
        p.add("missing required field: blocks", "/view")
        return p.messages
    p.messages += validate_blocks(view["blocks"], "/view/blocks", max_blocks=MODAL_MAX_BLOCKS)
    has_inputs = any(isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"])
    if has_inputs and "submit" not in view:
        p.add("missing required field: submit", "/view")
    return p.messages


def checked_view(spec: Any) -> Json:
    """A view payload from an app, or invalid_arguments with the problems listed."""
    problems = validate_view(spec)
    if problems:
        raise ApiError("invalid_arguments", extra={"response_metadata": {"messages": problems}})
    assert isinstance(spec, dict)
    return spec


def _view_object(spec: Json, view_id: str, root_id: str, previous_id: str | None) -> Json:
    return {
        "id": view_id,
        "team_id": seed.TEAM_ID,
        "type": spec.get("type", "modal"),
        "blocks": normalize_blocks(spec.get("blocks") or []),
        "private_metadata": spec.get("private_metadata", ""),
        "callback_id": spec.get("callback_id", ""),
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": spec.get("title"),
        "clear_on_close": bool(spec.get("clear_on_close", False)),
        "notify_on_close": bool(spec.get("notify_on_close", False)),
        "close": spec.get("close"),
        "submit": spec.get("submit"),
        "previous_view_id": previous_id,
        "root_view_id": root_id,
        "app_id": seed.APP_ID,
        "external_id": spec.get("external_id", ""),
        "app_installed_team_id": seed.TEAM_ID,
        "bot_id": seed.BOT_ID,
    }


def exchange_trigger(state: WorkspaceState, trigger_id: str | None, ttl_s: float) -> Trigger:
    """Use a trigger_id once, within its few seconds of life."""
    with state.lock:
        trigger = state.triggers.get(trigger_id or "")
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if time.monotonic() - trigger.created > ttl_s:
            raise ApiError("expired_trigger_id")
        if trigger.exchanged:
            raise ApiError("exchanged_trigger_id")
        trigger.exchanged = True
        return trigger


def _unique_external_id(state: WorkspaceState, spec: Json, keep: str | None = None) -> None:
    external_id = spec.get("external_id")
    if not external_id:
        return
    for view_id, record in state.views.items():
        if view_id != keep and record.view.get("external_id") == external_id:
            raise ApiError("duplicate_external_id")


def open_view(state: WorkspaceState, user_id: str, spec: Json) -> Json:
    """Open a new modal for `user_id`, replacing whatever stack was open."""
    with state.lock:
        _unique_external_id(state, spec)
        close_views(state, user_id, everything=True)
        view_id = state.ids.next("V")
        view = _view_object(spec, view_id, view_id, None)
        state.views[view_id] = ViewRecord(user_id, view)
        state.view_stacks[user_id] = [view_id]
        state.touch()
        return view


def push_view(state: WorkspaceState, user_id: str, spec: Json) -> Json:
    with state.lock:
        stack = state.view_stacks.get(user_id) or []
        if not stack:
            raise ApiError("not_found")
        if len(stack) >= MAX_STACK:
            raise ApiError("push_limit_reached")
        _unique_external_id(state, spec)
        view_id = state.ids.next("V")
        view = _view_object(spec, view_id, stack[0], stack[-1])
        state.views[view_id] = ViewRecord(user_id, view)
        stack.append(view_id)
        state.touch()
        return view


def find_view(state: WorkspaceState, view_id: str | None, external_id: str | None) -> ViewRecord:
    with state.lock:
        if view_id and view_id in state.views:
            return state.views[view_id]
        for record in state.views.values():
            if external_id and record.view.get("external_id") == external_id:
                return record
    raise ApiError("not_found")


def update_view(state: WorkspaceState, record: ViewRecord, spec: Json, hash_: str | None) -> Json:
    """Replace a view's content in place (same id), refusing stale hashes."""
    with state.lock:
        current = record.view
        if hash_ and hash_ != current["hash"]:
            raise ApiError("hash_conflict")
        _unique_external_id(state, spec, keep=current["id"])
        record.view = _view_object(
            spec, current["id"], current["root_view_id"], current["previous_view_id"]
        )
        record.errors = {}
        state.touch()
        return record.view


def top_view(state: WorkspaceState, user_id: str) -> ViewRecord | None:
    with state.lock:
        stack = state.view_stacks.get(user_id) or []
        return state.views[stack[-1]] if stack else None


def close_views(state: WorkspaceState, user_id: str, *, everything: bool) -> list[ViewRecord]:
    """Close the top view (or the whole stack); returns the records closed."""
    with state.lock:
        stack = state.view_stacks.get(user_id) or []
        closing = list(stack) if everything else stack[-1:]
        del stack[len(stack) - len(closing) :]
        for view_id in closing:
            state.views[view_id].open = False
        if closing:
            state.touch()
        return [state.views[v] for v in closing]
