"""Every Slack call spends one retry budget, whatever failed: a burst of 5xx or 429s
cannot hold a write (and the channel's queue behind it) for minutes."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.posting import build_web_client
from bot.slack.retries import RetryBudget, retry_after
from sandbox.slack.workspace import SlackWorkspace


def test_retry_after_is_read_from_slacks_header_in_any_case() -> None:
    assert retry_after({"Retry-After": ["3"]}) == 3.0
    assert retry_after({"retry-after": "7"}) == 7.0
    assert retry_after({"retry-after": "soon"}) == 1.0
    assert retry_after({}) == 1.0


def test_a_budget_allows_its_attempts_and_no_retry_past_its_window() -> None:
    budget = RetryBudget(attempts=3, within_s=10)
    now = time.monotonic()
    assert budget.allows(1, now, 0.5)
    assert budget.allows(2, now, 9.0)
    assert not budget.allows(3, now, 0.0)  # the fourth try would exceed three attempts
    assert not budget.allows(1, now, 11.0)  # a Retry-After past the window is not waited


def test_a_method_other_than_a_post_stops_after_its_attempts_of_5xx(
    slack: SlackWorkspace,
) -> None:
    client = build_web_client(
        slack.config.bot_token, slack.api_url, timeout=5, budget=RetryBudget(backoff_s=0.01)
    )
    slack.inject_failures("conversations.info", status=503, count=10)
    with pytest.raises(SlackApiError):
        client.conversations_info(channel="C0INCIDENTS")
    assert len(slack.calls("conversations.info")) == 4


def test_a_429_whose_retry_after_does_not_fit_the_window_is_not_waited(
    slack: SlackWorkspace,
) -> None:
    client = build_web_client(
        slack.config.bot_token,
        slack.api_url,
        timeout=5,
        budget=RetryBudget(within_s=2.0, backoff_s=0.01),
    )
    slack.inject_failures("chat.update", status=429, count=1, retry_after=30)
    started = time.monotonic()
    with pytest.raises(SlackApiError):
        client.chat_update(channel="C0INCIDENTS", ts="1.0", text="x")
    assert time.monotonic() - started < 5
    assert len(slack.calls("chat.update")) == 1


def test_a_rate_limited_post_is_posted_again_after_retry_after_within_the_same_budget(
    slack: SlackWorkspace,
) -> None:
    client = build_web_client(
        slack.config.bot_token, slack.api_url, timeout=5, budget=RetryBudget(backoff_s=0.01)
    )
    slack.inject_failures("chat.postMessage", status=429, count=1, retry_after=1)
    client.chat_postMessage(channel="C0INCIDENTS", text="after a 429")
    posts = slack.calls("chat.postMessage")
    assert [c.status for c in posts] == [429, 200]
    assert [m["text"] for m in slack.messages("incidents") if m.get("bot_id")] == ["after a 429"]
    slack.inject_failures("chat.postMessage", status=429, count=10, retry_after=1)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0INCIDENTS", text="never")
    assert len(slack.calls("chat.postMessage")) == 2 + 4
