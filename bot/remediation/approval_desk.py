"""The approval card's buttons as people use them: Approve (a confirmation modal), Deny (a
modal asking why) and the modals' submissions. Who may click is checked before any modal
opens; a refusal is an ephemeral note to the clicker in the card's thread, and is audited.
The decision itself is made by the service at click time (`bot.remediation.approvals`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.logs import get_logger
from bot.remediation.blocks import CardThread, approve_modal, deny_modal
from bot.remediation.service import Remediation

log = get_logger("opsbot.handlers.approvals")


class ApprovalDesk:
    """Handles clicks on approval cards; built by the composition root with the
    remediation service, Slack, and the worker pool (`run_later`) for what may wait."""

    def __init__(
        self, remediation: Remediation, client: WebClient, run_later: Callable[..., object]
    ) -> None:
        self.remediation = remediation
        self.client = client
        self.run_later = run_later

    def dialog(self, button: str, action_id: str, user: str, where: CardThread) -> View | None:
        """The modal a click on Approve or Deny opens, for someone who may click it: the
        confirmation (what runs where, how many approvals are left) or the reason asked of
        a denial. None when there is nothing to open (the action is gone, or this person
        may not click: told and audited by a worker). Fast: called before the click's
        3-second trigger expires."""
        refusal = self.remediation.refusal_before_dialog(action_id, user, button)
        if refusal:
            self.run_later(
                f"action-{button}-refused", self._refused, action_id, user, button, refusal, where
            )
            return None
        found = self.remediation.cards.read(action_id)
        if found is None:
            return None
        record, card = found
        metadata = json.dumps(
            {"action": action_id, "channel": where.channel, "thread": where.thread}
        )
        if button == "approve":
            return approve_modal(card, metadata)
        return deny_modal(action_id, record.target, record.kind, metadata)

    def dialog_failed(self, button: str, user: str, where: CardThread, error: str) -> None:
        """Slack would not open the modal (its trigger expired or was used): the clicker is
        told in the card's thread to click again."""
        note = f"The dialog did not open (Slack said {error}): click {button.capitalize()} again."
        self.run_later("action-dialog-failed", self.tell, where, user, note)

    def approve(self, action_id: str, user: str, where: CardThread) -> None:
        """The confirmation's submission: the service decides (checking again who may
        approve); the clicker is told what happened, and a refusal is audited. Call it from a
        worker."""
        result = self.remediation.approve(action_id, user)
        if result.refused:
            self.remediation.refused(action_id, user, "approve", result.message)
        self.tell(where, user, result.message)

    def deny(self, action_id: str, user: str, reason: str, where: CardThread) -> str | None:
        """The reason modal's submission: deny with `reason`. Returns the refusal to show in
        the modal (which stays open with the reason as typed), or None when denied (the
        clicker is told in the card's thread by a worker)."""
        result = self.remediation.deny(action_id, user, reason)
        if result.refused:
            self.run_later(
                "action-deny-refused",
                self.remediation.refused,
                action_id,
                user,
                "deny",
                result.message,
            )
            return result.message
        self.run_later("action-deny", self.tell, where, user, result.message)
        return None

    def tell(self, where: CardThread, user: str, text: str) -> None:
        """An ephemeral note to the clicker, in the card's thread."""
        if not where.channel:
            return
        try:
            self.client.chat_postEphemeral(
                channel=where.channel, user=user, text=text, thread_ts=where.thread
            )
        except SlackApiError as exc:
            log.warning("ephemeral reply failed", error=str(exc))

    def _refused(self, action_id: str, user: str, button: str, why: str, where: CardThread) -> None:
        self.remediation.refused(action_id, user, button, why)
        self.tell(where, user, why)
