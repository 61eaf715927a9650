"""A post whose outcome is unknown (Slack stored it, then the answer was a 500) is remembered
in the database: a restarted process, or another replica, reads the channel back and adopts
the message instead of posting it a second time."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from bot.settings import DatabaseSettings
from bot.slack.posting import IdempotentWebClient, build_web_client, post_key
from bot.slack.retries import RetryBudget
from bot.slack.unsure import StoredOutcomes
from bot.store.db import Database
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot

HEADER_KEY = "incident:7:header"


def process(slack: SlackWorkspace, database_url: str) -> tuple[Database, IdempotentWebClient]:
    """What one bot process holds: its own database connections and its own client."""
    db = Database(DatabaseSettings(url=database_url))
    db.upgrade()
    client = build_web_client(
        slack.config.bot_token,
        slack.api_url,
        timeout=5,
        outcomes=StoredOutcomes(db),
        budget=RetryBudget(backoff_s=0.05),
    )
    return db, client


def bot_texts(slack: SlackWorkspace, channel: str = "incidents") -> list[str]:
    return [str(m["text"]) for m in slack.messages(channel) if m.get("bot_id")]


def test_a_restarted_process_reads_back_a_post_that_landed_before_its_predecessor_died(
    slack: SlackWorkspace, database_url: str
) -> None:
    first_db, first = process(slack, database_url)
    first.budget = RetryBudget(
        attempts=1
    )  # the process dies after the uncertain attempt, before any check
    slack.inject_failures("chat.postMessage", status=500, count=1, landed=True)
    with pytest.raises(SlackApiError):
        first.chat_postMessage(
            channel="C0INCIDENTS",
            text="incident #7 opened",
            metadata=post_key("incident", 7, "header"),
        )
    first_db.dispose()
    assert bot_texts(slack) == ["incident #7 opened"]  # it did land

    second_db, second = process(slack, database_url)
    try:
        answer = second.chat_postMessage(
            channel="C0INCIDENTS",
            text="incident #7 opened",
            metadata=post_key("incident", 7, "header"),
        )
        still_unsure = StoredOutcomes(second_db).since(HEADER_KEY)
    finally:
        second_db.dispose()

    landed = [m for m in slack.messages("incidents") if m.get("bot_id")]
    assert len(landed) == 1  # adopted, not posted twice
    assert answer["ts"] == landed[0]["ts"]
    assert len(slack.calls("conversations.history")) == 1  # it looked before posting
    assert [c.status for c in slack.calls("chat.postMessage")] == [500]
    assert still_unsure is None  # settled once adopted


def test_another_replica_reads_back_a_thread_reply_whose_outcome_is_unknown(
    slack: SlackWorkspace, database_url: str
) -> None:
    root = str(slack.post_message("U0ALICE", "incidents", "a thread")["ts"])
    first_db, first = process(slack, database_url)
    second_db, second = process(slack, database_url)
    try:
        first.budget = RetryBudget(attempts=1)
        slack.inject_failures("chat.postMessage", status=503, count=1, landed=True)
        with pytest.raises(SlackApiError):
            first.chat_postMessage(
                channel="C0INCIDENTS",
                thread_ts=root,
                text="First triage of incident #7",
                metadata=post_key("incident", 7, "triage"),
            )
        answer = second.chat_postMessage(
            channel="C0INCIDENTS",
            thread_ts=root,
            text="First triage of incident #7",
            metadata=post_key("incident", 7, "triage"),
        )
    finally:
        first_db.dispose()
        second_db.dispose()
    replies = [m for m in slack.thread("incidents", root) if m.get("bot_id")]
    assert [m["text"] for m in replies] == ["First triage of incident #7"]
    assert answer["ts"] == replies[0]["ts"]
    assert len(slack.calls("conversations.replies")) == 1


def test_a_post_that_never_landed_is_posted_by_the_next_process_after_checking(
    slack: SlackWorkspace, database_url: str
) -> None:
    first_db, first = process(slack, database_url)
    first.budget = RetryBudget(attempts=1)
    slack.inject_failures("chat.postMessage", status=502, count=1)  # lost before Slack
    with pytest.raises(SlackApiError):
        first.chat_postMessage(channel="C0INCIDENTS", text="x", metadata=post_key("t", 1))
    first_db.dispose()

    second_db, second = process(slack, database_url)
    try:
        second.chat_postMessage(channel="C0INCIDENTS", text="x", metadata=post_key("t", 1))
        settled = StoredOutcomes(second_db).since("t:1") is None
    finally:
        second_db.dispose()
    assert bot_texts(slack) == ["x"]
    assert len(slack.calls("conversations.history")) == 1
    assert settled


def test_the_bot_remembers_unsure_posts_in_its_database(bot: RunningBot) -> None:
    client = bot.bot.runtime.client
    assert isinstance(client, IdempotentWebClient)
    assert isinstance(client.outcomes, StoredOutcomes)
