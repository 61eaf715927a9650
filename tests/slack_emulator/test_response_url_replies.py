"""Replies to a response_url go through the one outbound writer (bot.slack.replies): fitted
like chat posts, retried within the one budget, and by chat.postEphemeral once Slack would
refuse the URL — against an emulator that counts uses and checks bodies like Slack."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bot.slack.fit import MESSAGE_BLOCKS_MAX
from bot.slack.outbox import Outbox, Pace
from bot.slack.posting import IdempotentWebClient, build_web_client
from bot.slack.replies import DELIVERED, EPHEMERAL, ReplyTo, ResponseUrlReplies
from bot.slack.retries import RetryBudget
from bot.slack.text import escape
from bot.slack.writer import LANE_RATES
from sandbox.slack.workspace import SlackWorkspace

PERSON = "U0ALICE"
HOSTILE = "<!channel> & <@UEVIL> <http://evil.example|click here>"
_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


@pytest.fixture
def writer(workspace: SlackWorkspace) -> Iterator[IdempotentWebClient]:
    """The bot's kind of client, paced through an outbox with the bot's lanes."""
    client = build_web_client(
        workspace.config.bot_token, workspace.api_url, 10, budget=RetryBudget(backoff_s=0.05)
    )
    outbox = Outbox(
        lambda _incident: False,
        rate=0,
        lanes={
            lane: Pace(rate, burst, reserve=False) for lane, (rate, burst) in LANE_RATES.items()
        },
    )
    client.pace_through(outbox)
    yield client
    outbox.stop()


def reply_to(workspace: SlackWorkspace, client: IdempotentWebClient) -> ReplyTo:
    """A fresh response_url on a message in #general, as a click on it would carry."""
    channel = workspace.channel_id("general")
    source = client.chat_postMessage(channel=channel, text="a message with a button")
    url = workspace.response_url_for(PERSON, "general", str(source["ts"]))
    return ReplyTo(url, PERSON, channel)


def test_a_reply_over_the_size_limits_arrives_fitted(
    workspace: SlackWorkspace, writer: IdempotentWebClient
) -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"line {n} " + "word " * 700}}
        for n in range(60)
    ]

    how = ResponseUrlReplies(writer).reply(
        reply_to(workspace, writer), text="x " * 21_000, blocks=blocks, response_type="ephemeral"
    )

    assert how == DELIVERED
    (shown,) = workspace.ephemerals(PERSON, "general")
    assert len(shown["text"]) <= 40_000
    assert len(shown["blocks"]) <= MESSAGE_BLOCKS_MAX
    assert all(len(b["text"]["text"]) <= 3000 for b in shown["blocks"] if b["type"] == "section")
    assert "more" in shown["blocks"][-1]["elements"][0]["text"]
    assert [c.status for c in workspace.calls("response_url")] == [200]


def test_a_sixth_reply_on_one_response_url_arrives_through_chat_post_ephemeral(
    workspace: SlackWorkspace, writer: IdempotentWebClient
) -> None:
    replies, to = ResponseUrlReplies(writer), reply_to(workspace, writer)

    hows = [replies.reply(to, text=f"reply {n}", response_type="ephemeral") for n in range(6)]

    assert hows == [DELIVERED] * 5 + [EPHEMERAL]
    assert [c.status for c in workspace.calls("response_url")] == [200] * 5
    assert [e["text"] for e in workspace.ephemerals(PERSON, "general")] == [
        f"reply {n}" for n in range(6)
    ]


def test_a_response_url_slack_says_is_used_up_falls_back_to_an_ephemeral(
    workspace: SlackWorkspace, writer: IdempotentWebClient
) -> None:
    to = reply_to(workspace, writer)
    for n in range(5):  # another process (or Bolt itself) spent the URL
        ResponseUrlReplies(writer).reply(to, text=f"elsewhere {n}")

    how = ResponseUrlReplies(writer).reply(to, text="the answer", response_type="ephemeral")

    assert how == EPHEMERAL
    assert workspace.calls("response_url")[-1].response["error"] == "used_url"
    assert workspace.ephemerals(PERSON, "general")[-1]["text"] == "the answer"


def test_an_expired_response_url_falls_back_to_an_ephemeral(
    workspace: SlackWorkspace, writer: IdempotentWebClient
) -> None:
    to = reply_to(workspace, writer)
    workspace.configure(response_url_ttl_s=0.0)

    how = ResponseUrlReplies(writer).reply(to, text="late answer", response_type="ephemeral")

    assert how == EPHEMERAL
    assert workspace.calls("response_url")[-1].response["error"] == "expired_url"
    assert workspace.ephemerals(PERSON, "general")[-1]["text"] == "late answer"


def test_a_reply_that_meets_server_errors_arrives_within_the_retry_budget(
    workspace: SlackWorkspace, writer: IdempotentWebClient
) -> None:
    to = reply_to(workspace, writer)
    workspace.inject_failures("response_url", status=503, count=2)

    how = ResponseUrlReplies(writer).reply(to, text="after a hiccup", response_type="ephemeral")

    assert how == DELIVERED
    assert [c.status for c in workspace.calls("response_url")] == [503, 503, 200]
    assert [e["text"] for e in workspace.ephemerals(PERSON, "general")] == ["after a hiccup"]


def test_a_reply_slack_refuses_is_not_retried_and_shows_nothing(
    workspace: SlackWorkspace, writer: IdempotentWebClient
) -> None:
    to = reply_to(workspace, writer)
    bad = [{"type": "no_such_block"}]

    how = ResponseUrlReplies(writer).reply(to, text="bad", blocks=bad, response_type="ephemeral")

    assert how == "failed: invalid_blocks"
    assert [c.status for c in workspace.calls("response_url")] == [400]
    assert workspace.ephemerals(PERSON, "general") == []


def test_a_hostile_string_stays_escaped_through_the_url_and_the_fallback(
    workspace: SlackWorkspace, writer: IdempotentWebClient
) -> None:
    replies, to = ResponseUrlReplies(writer), reply_to(workspace, writer)
    long_title = escape(" ".join([HOSTILE] * 120))  # cut by the fitter, inside a section
    block = {"type": "section", "text": {"type": "mrkdwn", "text": long_title}}

    hows = [
        replies.reply(to, text=escape(HOSTILE), blocks=[block], response_type="ephemeral")
        for _ in range(6)
    ]

    assert hows[0] == DELIVERED
    assert hows[-1] == EPHEMERAL
    for shown in workspace.ephemerals(PERSON, "general"):
        for text in (shown["text"], shown["blocks"][0]["text"]["text"]):
            assert "<" not in text
            assert ">" not in text
            assert not _ENTITY.search(text), text[-40:]
        assert len(shown["blocks"][0]["text"]["text"]) <= 3000
