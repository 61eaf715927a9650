"""Events: mentions of the bot and messages. Each is handed to a worker at once; whether it
is a follow-up in a known thread, a question, or a call for help is decided there
(`bot.investigation.conversations`), so one listener per event type and no ordering."""

from __future__ import annotations

from typing import Any, Protocol

from slack_bolt import App
from slack_sdk import WebClient

from handlers.commands import RunLater

EVENTS = ("app_mention", "message")


class Converses(Protocol):
    """What the event listeners need of the core (`Conversations` is one)."""

    def mention(
        self, client: WebClient, event: dict[str, Any], bot_user_id: str | None
    ) -> None: ...

    def message(
        self, client: WebClient, event: dict[str, Any], bot_user_id: str | None
    ) -> None: ...


def register(app: App, conversations: Converses, run_later: RunLater) -> None:
    """Bolt acks events itself; the work runs in a worker (`run_later`)."""

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        run_later("mention", conversations.mention, client, event, context.get("bot_user_id"))

    @app.event("message")
    def on_message(event: dict[str, Any], client: WebClient, context: dict[str, Any]) -> None:
        if not event.get("thread_ts") or event.get("subtype") or event.get("bot_id"):
            return  # only people's thread replies can be follow-ups: no worker for the rest
        run_later("message", conversations.message, client, event, context.get("bot_user_id"))
