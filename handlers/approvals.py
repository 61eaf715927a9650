"""Approval cards: Approve (opens a confirmation modal), Deny (opens a modal asking why)
and the modals' submissions. Each listener parses the click, acks, and calls one method of
the approval desk (`bot.remediation.approval_desk`), which checks who may click and makes
the decision at click time."""

from __future__ import annotations

import json
from typing import Any, Protocol

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.remediation.blocks import APPROVE_MODAL, DENY_MODAL, DENY_REASON_BLOCK, CardThread
from bot.slack.blocks import ActionId
from bot.slack.posting import open_view
from handlers.commands import RunLater


class Approvals(Protocol):
    """What the card's buttons need of the core (`ApprovalDesk` is one)."""

    def dialog(self, button: str, action_id: str, user: str, where: CardThread) -> View | None: ...

    def dialog_failed(self, button: str, user: str, where: CardThread, error: str) -> None: ...

    def approve(self, action_id: str, user: str, where: CardThread) -> None: ...

    def deny(self, action_id: str, user: str, reason: str, where: CardThread) -> str | None: ...


def where_clicked(body: dict[str, Any]) -> CardThread:
    """The channel and thread of the clicked card (the thread is the card's own thread)."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    thread = container.get("thread_ts") or message.get("thread_ts") or message.get("ts")
    return CardThread(channel, thread)


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


def register(app: App, desk: Approvals, run_later: RunLater) -> None:
    """Each modal opens at once (its trigger lasts 3 seconds); the decisions run in workers."""

    def open_dialog(
        button: str, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        user, action_id = body["user"]["id"], str(action.get("value", ""))
        where = where_clicked(body)
        view = desk.dialog(button, action_id, user, where)
        if view is not None:  # its trigger lasts 3 seconds: opened now, not in a worker
            failed = open_view(client, str(body.get("trigger_id", "")), view)
            if failed:
                desk.dialog_failed(button, user, where, failed)

    @app.action(ActionId.ACTION_APPROVE.value)
    def on_approve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        open_dialog("approve", body, action, client)

    @app.view(APPROVE_MODAL)
    def on_approve_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        meta = modal_metadata(str(view.get("private_metadata", "")))
        where = CardThread(meta.get("channel"), meta.get("thread"))
        run_later("action-approve", desk.approve, meta["action"], body["user"]["id"], where)

    @app.action(ActionId.ACTION_DENY.value)
    def on_deny(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        open_dialog("deny", body, action, client)

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
        where = CardThread(meta.get("channel"), meta.get("thread"))
        refusal = desk.deny(meta["action"], body["user"]["id"], reason, where)
        if refusal is not None:
            # The modal stays open with the reason as typed: nothing the person wrote is lost.
            ack(response_action="errors", errors={DENY_REASON_BLOCK: refusal[:150]})
            return
        ack()
