"""Buttons on incident headers: Acknowledge, Investigate, Silence 1h, Resolve. Each acks at
once; the click is handled by a worker (`bot.incidents.desk`), which replies to the clicker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt import Ack, App

from bot.slack.blocks import ActionId
from bot.slack.replies import ReplyTo
from handlers.commands import Replies, RunLater

BUTTONS = {
    ActionId.INCIDENT_ACK: "ack",
    ActionId.INCIDENT_RESOLVE: "resolve",
    ActionId.INCIDENT_SILENCE: "silence",
    ActionId.INCIDENT_INVESTIGATE: "investigate",
}


class IncidentClicks(Protocol):
    """What the header buttons need of the core (`IncidentDesk` is one)."""

    def click(self, verb: str, value: str, user: str) -> str: ...


def register(app: App, desk: IncidentClicks, replies: Replies, run_later: RunLater) -> None:
    """One listener per button; each replies ephemerally with what happened."""

    def on_click(verb: str) -> Callable[..., None]:
        def handler(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
            ack()
            user, value = body["user"]["id"], str(action.get("value", ""))
            to = ReplyTo.of_action(body)

            def work() -> None:
                note = desk.click(verb, value, user)
                replies.reply(to, text=note, response_type="ephemeral", replace_original=False)

            run_later(f"incident-{verb}", work)

        return handler

    for action_id, verb in BUTTONS.items():
        app.action(action_id.value)(on_click(verb))
