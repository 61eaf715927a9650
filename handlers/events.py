"""Events: mentions of the bot and replies in threads."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Say

from bot.app.runtime import Runtime
from bot.slack.blocks import as_dicts, mention_help_blocks

EVENTS = ("app_mention", "message")


def register(app: App, rt: Runtime) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], say: Say) -> None:
        thread = event.get("thread_ts") or event["ts"]
        rt.deps.run_later(
            "mention-help",
            lambda: say(
                text="Here is what I can do",
                blocks=as_dicts(mention_help_blocks()),
                thread_ts=thread,
            ),
        )

    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        # Thread replies will feed incident timelines (incidents issue); until then they are
        # acknowledged so Slack does not retry them.
        return None
