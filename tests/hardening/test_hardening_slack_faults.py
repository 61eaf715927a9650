"""An incident's Slack thread stays exact while Slack fails the ways it really fails.

The emulator injects 5xx bursts (some after the message was stored, as when a gateway
times out after Slack acted), 429 `ratelimited` with Retry-After on chat.update, slow
answers and answers slower than the bot's timeout. The thread must end with exactly one
header, one triage and one resolution note, the header must show the final state, and
header edits must be coalesced.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot.slack.posting import build_web_client, post_key
from bot.slack.retries import RetryBudget
from bot.store.incidents import Incident
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot, workspace
from tests.incidents.amfixtures import alert, webhook

TOKEN = "am-hardening-token"


@pytest.fixture
def slack_ws() -> Iterator[SlackWorkspace]:
    ws = workspace()
    yield ws
    ws.close()


@pytest.fixture
def bot(slack_ws: SlackWorkspace, tmp_path: Path) -> Iterator[RunningBot]:
    with running_bot(
        slack_ws,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        slack={"api_timeout_seconds": 2},
        alertmanager={"bearer_token": TOKEN},
    ) as running:
        yield running


def send(bot: RunningBot, body: dict[str, Any]) -> None:
    answer = httpx.post(
        f"{bot.url}/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def bot_messages(ws: SlackWorkspace) -> list[dict[str, Any]]:
    return [m for m in ws.messages("incidents") if m.get("bot_id")]


def incident_of(bot: RunningBot) -> Incident:
    with bot.bot.deps.db.session() as session:
        return session.exec(select(Incident)).one()


# --- the emulator fails the way Slack does ---------------------------------------------------


def test_a_landed_failure_stores_the_message_and_still_answers_5xx(
    slack_ws: SlackWorkspace,
) -> None:
    client = WebClient(token=slack_ws.config.bot_token, base_url=slack_ws.api_url)
    slack_ws.inject_failures("chat.postMessage", status=502, count=1, landed=True)

    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0INCIDENTS", text="stored anyway")

    assert caught.value.response.status_code == 502
    assert [m["text"] for m in slack_ws.messages("incidents")][-1:] == ["stored anyway"]


def test_a_slow_answer_arrives_late_and_ratelimited_updates_are_429_with_retry_after(
    slack_ws: SlackWorkspace,
) -> None:
    client = WebClient(token=slack_ws.config.bot_token, base_url=slack_ws.api_url)
    ts = client.chat_postMessage(channel="C0INCIDENTS", text="v0")["ts"]
    slack_ws.inject_failures("chat.update", status=200, count=1, delay_s=1.0)
    slack_ws.inject_failures("chat.update", status=429, count=1, retry_after=3)

    started = time.monotonic()
    client.chat_update(channel="C0INCIDENTS", ts=ts, text="v1")
    took = time.monotonic() - started
    answer = httpx.post(
        f"{slack_ws.api_url}chat.update",
        data={"token": slack_ws.config.bot_token, "channel": "C0INCIDENTS", "ts": ts, "text": "v2"},
    )

    assert took >= 1.0
    assert (answer.status_code, answer.headers["retry-after"]) == (429, "3")
    assert answer.json() == {"ok": False, "error": "ratelimited"}


# --- the bot's client posts at most once ------------------------------------------------------


def test_a_post_whose_answer_was_lost_is_adopted_not_repeated(slack_ws: SlackWorkspace) -> None:
    client = build_web_client(slack_ws.config.bot_token, slack_ws.api_url, timeout=1)
    client.budget = RetryBudget(backoff_s=0.05)
    slack_ws.inject_failures("chat.postMessage", status=503, count=1)
    slack_ws.inject_failures("chat.postMessage", status=500, count=1, landed=True)
    slack_ws.inject_failures("chat.postMessage", status=200, count=1, delay_s=1.5)

    first = client.chat_postMessage(channel="C0INCIDENTS", text="once", metadata=post_key("t", 1))
    second = client.chat_postMessage(channel="C0INCIDENTS", text="slow")  # times out, landed

    texts = [m["text"] for m in slack_ws.messages("incidents")]
    assert texts.count("once") == 1
    assert texts.count("slow") == 1
    assert first["ts"] != second["ts"]
    statuses = slack_ws.wait_for(  # the slow answer is logged once the emulator sends it
        lambda: (
            [c.status for c in slack_ws.calls("chat.postMessage")][2:]
            and [c.status for c in slack_ws.calls("chat.postMessage")]
        )
    )
    assert statuses == [503, 500, 200]


def test_a_post_that_surely_failed_is_retried_and_lands_once(slack_ws: SlackWorkspace) -> None:
    client = build_web_client(slack_ws.config.bot_token, slack_ws.api_url, timeout=5)
    client.budget = RetryBudget(backoff_s=0.05)
    slack_ws.inject_failures("chat.postMessage", status=503, count=3)

    client.chat_postMessage(channel="C0INCIDENTS", text="after a burst")

    assert [m["text"] for m in slack_ws.messages("incidents")].count("after a burst") == 1
    assert [c.status for c in slack_ws.calls("chat.postMessage")] == [503, 503, 503, 200]
    assert len(slack_ws.calls("conversations.history")) == 3  # looked before each retry


# --- a whole incident lifecycle under faults ---------------------------------------------------


def test_an_incident_thread_is_exact_and_its_header_current_despite_slack_faults(
    slack_ws: SlackWorkspace, bot: RunningBot
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    pods = [f"checkout-{n}" for n in range(12)]

    def firing_alert(pod: str) -> dict[str, Any]:
        return alert(
            "HighErrorRate", start, pod=pod, namespace="prod", service="checkout", severity="high"
        )

    # Phase 1: header and triage through a 5xx burst, a 5xx after the header landed, and a
    # triage post whose answer is slower than the bot's 2 s timeout (it lands regardless).
    slack_ws.inject_failures("chat.postMessage", status=503, count=1)
    slack_ws.inject_failures("chat.postMessage", status=502, count=1, landed=True)
    slack_ws.inject_failures("chat.postMessage", status=200, count=1, delay_s=3.0)
    send(bot, webhook(firing_alert(pods[0])))
    header = slack_ws.wait_for(lambda: bot_messages(slack_ws) or None, timeout=20)[0]
    slack_ws.wait_for(lambda: len(slack_ws.thread("incidents", header["ts"])) >= 2, timeout=20)

    # Phase 2: alerts keep joining while chat.update is rate limited, fails and is slow.
    slack_ws.inject_failures("chat.update", status=429, count=2, retry_after=2)
    slack_ws.inject_failures("chat.update", status=503, count=1)
    slack_ws.inject_failures("chat.update", status=200, count=1, delay_s=1.5)
    slack_ws.inject_failures("chat.update", status=429, count=1, retry_after=1)
    firing: list[dict[str, Any]] = []
    for pod in pods:
        firing.append(firing_alert(pod))
        send(bot, webhook(*firing))
        time.sleep(0.1)
    bot.bot.runtime.pipeline.drain()
    slack_ws.wait_for(
        lambda: incident_of(bot).posted_version == incident_of(bot).header_version or None,
        timeout=30,
    )
    changes_while_firing = incident_of(bot).header_version

    # Phase 3: everything resolves; the resolution note's answer is lost after it landed.
    slack_ws.inject_failures("chat.postMessage", status=500, count=1, landed=True)
    resolved = [
        alert(
            "HighErrorRate",
            start,
            status="resolved",
            ends=datetime.now(UTC),
            pod=p,
            namespace="prod",
            service="checkout",
            severity="high",
        )
        for p in pods
    ]
    send(bot, webhook(*resolved))
    bot.bot.runtime.pipeline.drain()
    slack_ws.wait_for(
        lambda: (
            any(
                "Resolved" in json.dumps(m.get("blocks", []))
                for m in slack_ws.thread("incidents", header["ts"])[1:]
            )
            or None
        ),
        timeout=30,
    )
    slack_ws.wait_for(lambda: "[Resolved]" in bot_messages(slack_ws)[0]["text"] or None, timeout=30)
    time.sleep(2.5)  # room for any stray retry to show up as a duplicate
    bot.bot.runtime.notifier.catch_up()
    time.sleep(1.5)

    headers = bot_messages(slack_ws)
    assert len(headers) == 1, [m["text"] for m in headers]
    thread = slack_ws.thread("incidents", headers[0]["ts"])
    kinds = [
        m.get("metadata", {}).get("event_payload", {}).get("opsbot_key", "").split(":")[2]
        for m in thread
    ]
    assert kinds == ["header", "triage", "resolution"], [m.get("text") for m in thread]
    assert "[Resolved]" in headers[0]["text"]
    assert str(len(pods)) in json.dumps(headers[0]["blocks"])

    incident = incident_of(bot)
    updates = slack_ws.calls("chat.update")
    assert incident.header_version >= len(pods)
    assert changes_while_firing >= len(pods)
    assert len(updates) <= incident.header_version // 2 + 6, len(updates)

    # Retries back off: a 429 is retried no sooner than its Retry-After, and 5xx posts are
    # retried after a pause, never back to back.
    for earlier, later in itertools.pairwise(updates):
        if earlier.status == 429:  # every injected Retry-After is at least 1 s
            assert later.at - earlier.at >= 0.9
    posts = slack_ws.calls("chat.postMessage")
    for earlier, later in itertools.pairwise(posts):
        if earlier.status >= 500:
            assert later.at - earlier.at >= 0.4
