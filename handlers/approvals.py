"""Approval cards: Approve (after Slack's confirm dialog), Deny (opens a modal asking why)
and the modal's submission. Each acks at once; the decision is made by the server."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app.runtime import Runtime
from bot.logs import get_logger
from bot.remediation.blocks import DENY_MODAL, DENY_REASON_BLOCK, deny_modal
from bot.remediation.records import ActionState, load
from bot.slack.blocks import ActionId

log = get_logger("opsbot.handlers.approvals")


def _reply(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: App, rt: Runtime) -> None:
    svc = rt.remediation

    @app.action(ActionId.ACTION_APPROVE.value)
    def on_approve(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond
    ) -> None:
        ack()
        user, action_id = body["user"]["id"], str(action.get("value", ""))

        def work() -> None:
            _reply(respond, svc.approve(action_id, user).message)

        rt.deps.run_later("action-approve", work)

    @app.action(ActionId.ACTION_DENY.value)
    def on_deny(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        ack()
        action_id = str(action.get("value", ""))
        record = load(rt.deps.db, action_id)
        if record is None or record.state != ActionState.PENDING:
            state = record.state if record else "unknown"
            _reply(respond, f"Action `{action_id}` is {state}; there is nothing to deny.")
            return
        # trigger_id is valid for 3 seconds: open the modal now, not in a worker.
        client.views_open(
            trigger_id=body["trigger_id"],
            view=deny_modal(action_id, record.target, record.kind),
        )

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
        ack()
        user, action_id = body["user"]["id"], str(view.get("private_metadata", ""))

        def work() -> None:
            result = svc.deny(action_id, user, reason)
            record = load(rt.deps.db, action_id)
            channel = record.card_channel if record else None
            if not channel:
                return
            try:
                rt.client.chat_postEphemeral(channel=channel, user=user, text=result.message)
            except SlackApiError as exc:
                log.warning("deny reply failed", error=str(exc))

        rt.deps.run_later("action-deny", work)
