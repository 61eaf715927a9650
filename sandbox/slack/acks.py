"""What Slack does with the app's answers: ack bodies, view_submission response_actions and
posts to a response_url."""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from sandbox.slack import seed
from sandbox.slack.apicall import ApiError
from sandbox.slack.blocks import normalize_blocks
from sandbox.slack.delivery import DeliveryResult
from sandbox.slack.messages import bot_message, ephemeral_message
from sandbox.slack.methods_chat import check_content
from sandbox.slack.records import ResponseUrl, ViewRecord
from sandbox.slack.views import checked_view, close_views, push_view, update_view

if TYPE_CHECKING:
    from sandbox.slack.workspace import SlackWorkspace

Json = dict[str, Any]
TROUBLE = "We had some trouble connecting. Try again?"


def slackbot_notice(ws: SlackWorkspace, user_id: str, channel_id: str, text: str) -> None:
    """An ephemeral line from Slackbot, the way Slack reports a failed command."""
    ws.state.add_ephemeral(
        channel_id, user_id, ephemeral_message(text, None, from_user=seed.SLACKBOT_ID)
    )


def _failure_text(command: str, result: DeliveryResult) -> str:
    error = "operation_timeout" if result.error == "timeout" else "dispatch_failed"
    return f'{command} failed with the error "{error}"'


def post_answer(
    ws: SlackWorkspace, user_id: str, channel_id: str, answer: Json, thread_ts: str | None
) -> None:
    """Show an app's answer (ack body or response_url post) in channel or to one user."""
    text, blocks = answer.get("text"), answer.get("blocks")
    check_content(
        text, blocks, answer.get("attachments"), blocks_limit=ws.config.blocks_total_text_limit
    )
    stored_blocks = normalize_blocks(blocks) if blocks else None
    if answer.get("response_type") == "in_channel":
        message = bot_message(text, stored_blocks, answer.get("attachments"))
        if thread_ts:
            message["thread_ts"] = thread_ts
        stored = ws.state.add_message(channel_id, message)
        ws.publish_message_events(channel_id, stored)
        return
    message = ephemeral_message(text or "", stored_blocks)
    if thread_ts:
        message["thread_ts"] = thread_ts
    ws.state.add_ephemeral(channel_id, user_id, message)


def apply_command_ack(
    ws: SlackWorkspace, user_id: str, channel_id: str, command: str, result: DeliveryResult
) -> None:
    if not result.ok:
        slackbot_notice(ws, user_id, channel_id, _failure_text(command, result))
        return
    answer = result.payload or {}
    if not (answer.get("text") or answer.get("blocks") or answer.get("attachments")):
        return
    try:
        post_answer(ws, user_id, channel_id, answer, None)
    except ApiError as error:
        slackbot_notice(ws, user_id, channel_id, f'{command} failed with the error "{error.error}"')


def apply_submission_ack(ws: SlackWorkspace, record: ViewRecord, result: DeliveryResult) -> None:
    """Close, update, push, clear or show errors, as the view_submission ack asks."""
    state = ws.state
    if not result.ok:
        record.errors = {"": TROUBLE}
        state.touch()
        return
    answer = result.payload or {}
    action = answer.get("response_action")
    try:
        if action is None:
            close_views(state, record.user_id, everything=False)
        elif action == "errors" and isinstance(answer.get("errors"), dict):
            record.errors = {str(k): str(v) for k, v in answer["errors"].items()}
            state.touch()
        elif action == "update":
            update_view(state, record, checked_view(answer.get("view")), None)
        elif action == "push":
            push_view(state, record.user_id, checked_view(answer.get("view")))
        elif action == "clear":
            close_views(state, record.user_id, everything=True)
        else:
            record.errors = {"": TROUBLE}
            state.touch()
    except ApiError:
        record.errors = {"": TROUBLE}
        state.touch()


def respond(ws: SlackWorkspace, key: str, answer: Any) -> tuple[int, Json]:
    """A post to a response_url: at most a few, within half an hour."""
    state, config = ws.state, ws.config
    with state.lock:
        record = state.response_urls.get(key)
        if record is None:
            return 404, {"ok": False, "error": "invalid_url"}
        if time.monotonic() - record.created > config.response_url_ttl_s:
            return 404, {"ok": False, "error": "expired_url"}
        if record.uses >= config.response_url_max_uses:
            return 404, {"ok": False, "error": "used_url"}
        if not isinstance(answer, dict):
            return 400, {"ok": False, "error": "invalid_payload"}
        record.uses += 1
        try:
            _apply_response(ws, record.user_id, record.channel_id, record, answer)
        except ApiError as error:
            return 400, {"ok": False, "error": error.error, **error.extra}
        return 200, {"ok": True}


def _apply_response(
    ws: SlackWorkspace, user_id: str, channel_id: str, record: ResponseUrl, answer: Json
) -> None:
    state = ws.state
    source_ts = record.message_ts
    if answer.get("delete_original") and source_ts:
        if record.source_is_ephemeral:
            state.remove_ephemeral(source_ts)
        elif state.message(channel_id, source_ts) is not None:
            state.remove_message(channel_id, source_ts)
        return
    if answer.get("replace_original") and source_ts:
        check_content(
            answer.get("text"),
            answer.get("blocks"),
            answer.get("attachments"),
            blocks_limit=ws.config.blocks_total_text_limit,
        )
        target = _source_message(ws, channel_id, source_ts, record.source_is_ephemeral)
        if target is not None:
            target["text"] = answer.get("text", "")
            target["blocks"] = normalize_blocks(answer.get("blocks") or [])
            if "attachments" in answer:
                target["attachments"] = copy.deepcopy(answer["attachments"])
            if not record.source_is_ephemeral:
                target["edited"] = {"user": seed.BOT_USER_ID, "ts": state.clock.next()}
            state.touch()
            return
    thread_ts = answer.get("thread_ts") or record.thread_ts
    post_answer(ws, user_id, channel_id, answer, thread_ts)


def _source_message(ws: SlackWorkspace, channel_id: str, ts: str, ephemeral: bool) -> Json | None:
    if ephemeral:
        found = ws.state.ephemeral(ts)
        return found.message if found else None
    return ws.state.message(channel_id, ts)
