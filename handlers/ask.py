"""/ask-ai and the answer's "Show evidence" button. The command acks at once, naming the
question; the answer is posted in the question's thread by a worker
(`bot.investigation.conversations`). Mentions and thread replies are in `handlers.events`."""

from __future__ import annotations

from typing import Any, Protocol

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.slack.blocks import ActionId, escape
from bot.slack.posting import open_view
from bot.slack.replies import ReplyTo
from handlers.commands import Replies, RunLater, usage

ECHO_CHARS = 200  # the acknowledgement names the question; the thread root shows it whole


class Asks(Protocol):
    """What /ask-ai needs of the core (`Conversations` is one)."""

    def ask(self, client: WebClient, channel: str, user: str, text: str) -> None: ...

    def evidence_view(self, ref: str) -> View: ...


def clipped(text: str, limit: int = ECHO_CHARS) -> str:
    """`text` cut to `limit` characters at a word where possible, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut + "…"


def register(app: App, conversations: Asks, replies: Replies, run_later: RunLater) -> None:
    """/ask-ai answers in a worker (`run_later`); the evidence modal opens at once."""

    @app.action(ActionId.FINDING_EVIDENCE.value)
    def on_show_evidence(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        # trigger_id is valid for 3 seconds: open the modal now, not in a worker.
        view = conversations.evidence_view(str(action.get("value", "")))
        failed = open_view(client, str(body.get("trigger_id", "")), view)
        if failed:
            replies.reply(
                ReplyTo.of_action(body),
                text=f"The evidence did not open (Slack said {failed}): click again.",
                response_type="ephemeral",
                replace_original=False,
            )

    @app.command("/ask-ai")
    def on_ask(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        text = str(command.get("text") or "").strip()
        if text.lower() in ("", "help"):
            ack(**usage("/ask-ai"))
            return
        ack(response_type="ephemeral", text=f"Looking into it: {escape(clipped(text))}")
        run_later(
            "ask-ai",
            conversations.ask,
            client,
            command["channel_id"],
            command["user_id"],
            text,
        )
