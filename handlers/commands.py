"""/incident, and what every slash command shares: the usage reply and the worker hand-off.
Each command acks at once; the work runs after the ack (`bot.incidents.desk`)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from slack_bolt import Ack, App, Respond

from bot.slack.blocks import as_dicts, usage_blocks, usage_text

COMMANDS = ("/ask-ai", "/incident", "/opsbot")
RunLater = Callable[..., Future[Any]]
"""Runs `fn(*args)` in the shared worker pool after the ack: `run_later(name, fn, *args)`."""


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


def register(app: App, desk: IncidentCommands, run_later: RunLater) -> None:
    """/incident. (/ask-ai lives in handlers/ask.py and /opsbot in handlers/opsbot_command.py.)"""

    @app.command("/incident")
    def on_incident(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        text = command.get("text", "").strip()
        if text in ("", "help"):
            ack(**usage("/incident"))
            return
        ack()

        def work() -> None:
            respond(text=desk.command(text, command["user_id"]), response_type="ephemeral")

        run_later("incident-command", work)
