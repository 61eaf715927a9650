"""Slash commands. Each acks at once; anything slow runs after the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.blocks import as_dicts, usage_blocks, usage_text
from bot.deps import Deps

COMMANDS = ("/ask-ai", "/incident", "/opsbot")


def _usage(command: str) -> dict[str, Any]:
    return {
        "response_type": "ephemeral",
        "text": usage_text(command),
        "blocks": as_dicts(usage_blocks(command)),
    }


def register(app: App, deps: Deps) -> None:
    def answer_with_usage(ack: Ack, command: dict[str, Any]) -> None:
        # The behaviour behind each command arrives with its own issue; until then every
        # form of the command answers with its usage help, inside the 3-second ack.
        ack(**_usage(command["command"]))

    for name in COMMANDS:
        app.command(name)(answer_with_usage)
