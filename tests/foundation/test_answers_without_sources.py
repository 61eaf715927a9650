"""Answers that answer: without a data source opsbot says it cannot look anything up and how
to connect one; mentions that ask something are answered in their thread; help and small
talk get the card; Investigate on a declared incident always ends with a message."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot.investigation.intent import MentionIntent, mention_intent
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot

Json = dict[str, Any]


def bot_replies(slack: SlackWorkspace, channel: str, root: str) -> list[Json]:
    return [m for m in slack.thread(channel, root)[1:] if m.get("bot_id")]


def shown(message: Json) -> str:
    return json.dumps(message.get("blocks", [])) + str(message.get("text"))


def test_ask_ai_without_sources_says_it_cannot_look_anything_up_and_how_to_connect_one(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    slack.slash_command("U0ALICE", "general", "/ask-ai", "why is checkout slow?")
    root = slack.wait_for(
        lambda: [m for m in slack.messages("general") if "asked:" in str(m.get("text"))]
    )[-1]
    reply = slack.wait_for(lambda: bot_replies(slack, "general", str(root["ts"])), timeout=10)
    text = shown(reply[0])
    assert "can't look anything up" in text
    assert "OPSBOT_PROMETHEUS_URL" in text
    assert "OPSBOT_KUBECONFIG" in text
    assert "Root cause" not in text
    assert "confidence" not in text
    assert len(reply) == 1, "no placeholder left behind"


@pytest.mark.parametrize(
    "question", ["what is going on with checkout?", "is the database ok?", "check payments"]
)
def test_a_mention_with_a_question_is_answered_in_its_thread_like_ask_ai(
    slack: SlackWorkspace, bot: RunningBot, question: str
) -> None:
    message = slack.post_message("U0ALICE", "incidents", f"<@{slack.bot_user_id}> {question}")
    reply = slack.wait_for(lambda: bot_replies(slack, "incidents", message["ts"]), timeout=10)
    text = shown(reply[0])
    assert "Here is what I can do" not in text
    assert "can't look anything up" in text
    assert question.rsplit(maxsplit=1)[-1].rstrip("?") in text


@pytest.mark.parametrize("text", ["hi", "thanks!", "help", "hey, what can you do?", ""])
def test_small_talk_and_help_mentions_get_the_card(
    slack: SlackWorkspace, bot: RunningBot, text: str
) -> None:
    message = slack.post_message("U0ALICE", "incidents", f"<@{slack.bot_user_id}> {text}")
    reply = slack.wait_for(lambda: bot_replies(slack, "incidents", message["ts"]), timeout=10)
    assert "Here is what I can do" in reply[0]["text"]


def test_a_follow_up_in_a_mention_thread_is_answered_there(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    message = slack.post_message("U0ALICE", "incidents", f"<@{slack.bot_user_id}> is redis ok?")
    slack.wait_for(lambda: bot_replies(slack, "incidents", message["ts"]), timeout=10)
    slack.post_message("U0ALICE", "incidents", "and postgres?", thread_ts=message["ts"])
    slack.wait_for(lambda: len(bot_replies(slack, "incidents", message["ts"])) >= 2, timeout=10)


def test_investigate_on_a_declared_incident_without_sources_says_why_in_the_thread_and_logs_it(
    slack: SlackWorkspace, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    slack.slash_command("U0ALICE", "incidents", "/incident", "declare checkout is down")
    header = slack.wait_for(
        lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=10
    )[0]
    slack.click_button("U0ALICE", "incidents", str(header["ts"]), "incident_investigate")
    note = slack.wait_for(
        lambda: [
            m
            for m in bot_replies(slack, "incidents", str(header["ts"]))
            if "can't look anything up" in shown(m)
        ],
        timeout=10,
    )
    assert "checkout is down" in shown(note[0])
    slack.wait_for(lambda: "not investigated: no data source" in caplog.text, timeout=5)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("why is checkout slow?", MentionIntent.QUESTION),
        ("what is going on with checkout?", MentionIntent.QUESTION),
        ("is the database ok?", MentionIntent.QUESTION),
        ("show me connection errors", MentionIntent.QUESTION),
        ("hello", MentionIntent.SMALL_TALK),
        ("thanks a lot", MentionIntent.SMALL_TALK),
        ("good morning everyone", MentionIntent.SMALL_TALK),
        ("how are you?", MentionIntent.SMALL_TALK),
        ("help", MentionIntent.HELP),
        ("  ", MentionIntent.HELP),
        ("hey opsbot, what can you do?", MentionIntent.HELP),
    ],
)
def test_a_mention_is_read_as_a_question_help_or_small_talk(
    text: str, intent: MentionIntent
) -> None:
    assert mention_intent(text) is intent
