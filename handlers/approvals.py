"""Approval cards: Approve (after Slack's confirm dialog), Deny (opens a modal asking why)
and the modal's submission. Who may click is checked before any modal opens; a refusal is
an ephemeral note to the clicker in the card's thread, and is audited. The decision itself
is made by the server at click time."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app.runtime import Runtime
from bot.logs import get_logger
from bot.remediation.approvals import record_refusal, refusal_before_dialog
from bot.remediation.blocks import DENY_MODAL, DENY_REASON_BLOCK, deny_modal
from bot.slack.blocks import ActionId
from bot.slack.posting import open_view

log = get_logger("opsbot.handlers.approvals")


def where_clicked(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and thread of the clicked card (the thread is the card's own thread)."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    thread = container.get("thread_ts") or message.get("thread_ts") or message.get("ts")
    return channel, thread


def tell(client: WebClient, channel: str | None, thread: str | None, user: str, text: str) -> None:
    """An ephemeral note to the clicker, in the card's thread."""
    if not channel:
        return
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread)
    except SlackApiError as exc:
        log.warning("ephemeral reply failed", error=str(exc))


def register(app: App, rt: Runtime) -> None:
    svc = rt.remediation

    def refused(action_id: str, user: str, why: str, where: tuple[str | None, ...]) -> None:
        record_refusal(svc.parts, action_id, user, "deny", why)
        tell(rt.client, where[0], where[1], user, why)

    @app.action(ActionId.ACTION_APPROVE.value)
    def on_approve(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user, action_id = body["user"]["id"], str(action.get("value", ""))
        channel, thread = where_clicked(body)

        def work() -> None:
            result = svc.approve(action_id, user)
            if result.refused:
                record_refusal(svc.parts, action_id, user, "approve", result.message)
            tell(rt.client, channel, thread, user, result.message)

        rt.deps.run_later("action-approve", work)

    @app.action(ActionId.ACTION_DENY.value)
    def on_deny(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, action_id = body["user"]["id"], str(action.get("value", ""))
        channel, thread = where_clicked(body)
        refusal = refusal_before_dialog(svc.parts, action_id, user, "deny")
        if refusal:
            rt.deps.run_later(
                "action-deny-refused", refused, action_id, user, refusal, (channel, thread)
            )
            return
        found = svc.cards.read(action_id)
        if found is None:
            return
        record = found[0]
        # trigger_id is valid for 3 seconds: open the modal now, not in a worker.
        failed = open_view(
            client,
            str(body.get("trigger_id", "")),
            deny_modal(
                action_id,
                record.target,
                record.kind,
                json.dumps({"action": action_id, "channel": channel, "thread": thread}),
            ),
        )
        if failed:
            note = f"The reason dialog did not open (Slack said {failed}): click Deny again."
            rt.deps.run_later("action-deny-retry", tell, rt.client, channel, thread, user, note)

    @app.view(DENY_MODAL)
    def on_deny_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view.get("state", {}).get("values", {})
        reason = str(
            values.get(DENY_REASON_BLOCK, {})
            .get(ActionId.ACTION_DENY_REASON.value, {})
            .get("value")
            or ""
        ).strip()
        if not reason:
            ack(response_action="errors", errors={DENY_REASON_BLOCK: "Say why it should not run."})
            return
        meta = modal_metadata(str(view.get("private_metadata", "")))
        user, action_id = body["user"]["id"], meta["action"]
        result = svc.deny(action_id, user, reason)
        if result.refused:
            # The modal stays open with the reason as typed: nothing the person wrote is lost.
            ack(response_action="errors", errors={DENY_REASON_BLOCK: result.message[:150]})
            rt.deps.run_later(
                "action-deny-refused",
                record_refusal,
                svc.parts,
                action_id,
                user,
                "deny",
                result.message,
            )
            return
        ack()
        rt.deps.run_later(
            "action-deny", tell, rt.client, meta["channel"], meta["thread"], user, result.message
        )


def modal_metadata(raw: str) -> dict[str, Any]:
    """The deny modal's private metadata: action id, channel and thread of the card (older
    modals carried the bare action id)."""
    try:
        meta = json.loads(raw)
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        return {"action": raw, "channel": None, "thread": None}
    return {"action": str(meta.get("action", "")), **meta}
