"""/incident, and what every slash command shares: the usage reply and the worker hand-off.
Each command acks at once; the work runs after the ack (`bot.incidents.desk`)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from slack_bolt import Ack, App

from bot.slack.blocks import as_dicts, usage_blocks, usage_text
from bot.slack.replies import ReplyTo

COMMANDS = ("/ask-ai", "/incident", "/opsbot")
RunLater = Callable[..., Future[Any]]
"""Runs `fn(*args)` in the shared worker pool after the ack: `run_later(name, fn, *args)`."""


class Replies(Protocol):
    """How a handler answers the person who asked, instead of Bolt's raw `respond()`: the
    outbound writer fits, paces and retries the reply and falls back to an ephemeral when
    the response_url is spent (`bot.slack.replies.ResponseUrlReplies` is one)."""

    def reply(self, to: ReplyTo, **message: Any) -> str: ...


class IncidentCommands(Protocol):
    """What /incident needs of the core (`IncidentDesk` is one)."""

    def command(self, text: str, user: str) -> str: ...


def usage(command: str) -> dict[str, Any]:
    """The ephemeral usage reply to `command` (help, or a bare command)."""
    return {
        "response_type": "ephemeral",
        "text": usage_text(command),
        "blocks": as_dicts(usage_blocks(command)),
    }


def register(app: App, desk: IncidentCommands, replies: Replies, run_later: RunLater) -> None:
    """/incident. (/ask-ai lives in handlers/ask.py and /opsbot in handlers/opsbot_command.py.)"""

    @app.command("/incident")
    def on_incident(ack: Ack, command: dict[str, Any]) -> None:
        text = command.get("text", "").strip()
        if text in ("", "help"):
            ack(**usage("/incident"))
            return
        ack()
        to = ReplyTo.of_command(command)

        def work() -> None:
            note = desk.command(text, command["user_id"])
            replies.reply(to, text=note, response_type="ephemeral")

        run_later("incident-command", work)
