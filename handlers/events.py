"""Events: mentions of the bot and replies in threads. A mention that asks something is
answered like /ask-ai in its thread; help and small talk get the capabilities card.
(Mentions in /ask-ai and incident threads are follow-ups, handled in `handlers.ask`.)"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Say
from slack_sdk import WebClient

from bot.app.runtime import Runtime
from bot.investigation.agent.threads import without_mentions
from bot.investigation.intent import MentionIntent, mention_intent
from bot.slack.blocks import as_dicts, mention_help_blocks
from handlers.ask import answer_mention

EVENTS = ("app_mention", "message")


def register(app: App, rt: Runtime) -> None:
    @app.event("app_mention")
    def on_mention(event: dict[str, Any], say: Say, client: WebClient) -> None:
        intent = mention_intent(without_mentions(str(event.get("text") or "")))
        if intent is MentionIntent.QUESTION:
            rt.deps.run_later("mention-question", answer_mention, rt, client, event)
            return
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
