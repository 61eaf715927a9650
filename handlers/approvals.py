"""Approval cards: Approve (opens a confirmation modal), Deny (opens a modal asking why) and
the modals' submissions. Who may click is checked before any modal opens (the card carries
no client-side confirm dialog, which Slack would show to anyone); a refusal is an ephemeral
note to the clicker in the card's thread, and is audited. The decision itself is made by the
server when the modal is submitted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.app.runtime import Runtime
from bot.logs import get_logger
from bot.remediation.blocks import (
    APPROVE_MODAL,
    DENY_MODAL,
    DENY_REASON_BLOCK,
    approve_modal,
    deny_modal,
)
from bot.slack.blocks import ActionId
from bot.slack.posting import open_view

log = get_logger("opsbot.handlers.approvals")


Where = tuple[str | None, str | None]


@dataclass(frozen=True)
class Clicked:
    """A click allowed through to its modal: who, which action, and the modal's metadata."""

    user: str
    action_id: str
    meta: str


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


def open_dialog(
    rt: Runtime, client: WebClient, body: dict[str, Any], click: Clicked, view: View, button: str
) -> None:
    """Open the click's modal now (its trigger_id lives 3 seconds, so not in a worker); if
    Slack refuses, the clicker is told in the card's thread to click again."""
    failed = open_view(client, str(body.get("trigger_id", "")), view)
    if failed:
        channel, thread = where_clicked(body)
        note = f"The dialog did not open (Slack said {failed}): click {button} again."
        rt.deps.run_later(
            "action-dialog-failed", tell, rt.client, channel, thread, click.user, note
        )


def register(app: App, rt: Runtime) -> None:
    svc = rt.remediation

    def refused(action_id: str, user: str, button: str, why: str, where: Where) -> None:
        svc.refused(action_id, user, button, why)
        tell(rt.client, where[0], where[1], user, why)

    def checked(body: dict[str, Any], action: dict[str, Any], button: str) -> Clicked | None:
        """The click, when this person may go on to the dialog; otherwise the refusal is
        queued (ephemeral in the thread, audited) and None comes back."""
        user, action_id = body["user"]["id"], str(action.get("value", ""))
        where = where_clicked(body)
        refusal = svc.refusal_before_dialog(action_id, user, button)
        if refusal:
            rt.deps.run_later(
                f"action-{button}-refused", refused, action_id, user, button, refusal, where
            )
            return None
        return Clicked(
            user,
            action_id,
            json.dumps({"action": action_id, "channel": where[0], "thread": where[1]}),
        )

    @app.action(ActionId.ACTION_APPROVE.value)
    def on_approve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        click = checked(body, action, "approve")
        found = svc.cards.read(click.action_id) if click else None
        if click is None or found is None:
            return
        open_dialog(rt, client, body, click, approve_modal(found[1], click.meta), "Approve")

    @app.view(APPROVE_MODAL)
    def on_approve_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        meta = modal_metadata(str(view.get("private_metadata", "")))
        user, action_id = body["user"]["id"], meta["action"]

        def work() -> None:
            result = svc.approve(action_id, user)
            if result.refused:
                svc.refused(action_id, user, "approve", result.message)
            tell(rt.client, meta["channel"], meta["thread"], user, result.message)

        rt.deps.run_later("action-approve", work)

    @app.action(ActionId.ACTION_DENY.value)
    def on_deny(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        click = checked(body, action, "deny")
        found = svc.cards.read(click.action_id) if click else None
        if click is None or found is None:
            return
        record = found[0]
        # trigger_id is valid for 3 seconds: open the modal now, not in a worker.
        view = deny_modal(click.action_id, record.target, record.kind, click.meta)
        open_dialog(rt, client, body, click, view, "Deny")

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
                "action-deny-refused", svc.refused, action_id, user, "deny", result.message
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
