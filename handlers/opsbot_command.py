"""`/opsbot pause|resume|status|policy explain|digest|capacity|help`: operating the bot from
Slack. Acks at once (help is the ack); the subcommand runs after it (`bot.app.operator`)."""

from __future__ import annotations

from typing import Any, Protocol

from slack_bolt import Ack, App

from bot.slack.replies import ReplyTo
from handlers.commands import Replies, RunLater, usage


class Operates(Protocol):
    """What /opsbot needs of the core (`Operator` is one)."""

    def reply(self, text: str, user: str) -> dict[str, Any]: ...


def register(app: App, operator: Operates, replies: Replies, run_later: RunLater) -> None:
    """/opsbot; the reply is ephemeral, from a worker."""

    @app.command("/opsbot")
    def on_opsbot(ack: Ack, command: dict[str, Any]) -> None:
        text = command.get("text", "").strip()
        if text in ("", "help"):
            ack(**usage("/opsbot"))
            return
        ack()
        to = ReplyTo.of_command(command)
        run_later(
            "opsbot-command",
            lambda: replies.reply(to, **operator.reply(text, command["user_id"])),
        )
