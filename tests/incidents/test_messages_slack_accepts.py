"""Every message the bot sends is one Slack accepts: big incidents degrade, never fail.

The Slack emulator validates every call with Slack's limits and error codes, so a call it
refused shows up in its log with `ok: false`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.fit import MAX_PARTS, fit_message, split_message
from bot.slack.posting import build_web_client
from sandbox.slack.blocks import total_text_length, validate_blocks
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot
from tests.incidents.amfixtures import alert, webhook

TOKEN = "am-webhook-token-limits"


@pytest.fixture
def bot(slack: SlackWorkspace, database_url: str) -> Iterator[RunningBot]:
    with running_bot(
        slack, database_url=database_url, alertmanager={"bearer_token": TOKEN}
    ) as running:
        yield running


def post(bot: RunningBot, body: dict[str, Any]) -> None:
    answer = httpx.post(
        f"{bot.url}/alertmanager",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 200


def refused(slack: SlackWorkspace) -> list[Any]:
    """Calls Slack refused for what they said (a rate limit is pacing, not a refusal)."""
    return [
        (c.method, c.response)
        for c in slack.calls()
        if not c.response.get("ok", True) and c.response.get("error") != "ratelimited"
    ]


def thread_of(slack: SlackWorkspace, name_part: str) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        for message in slack.messages("incidents"):
            if message.get("bot_id") and name_part in json.dumps(message):
                replies = slack.thread("incidents", message["ts"])
                return replies if len(replies) >= 2 else None
        return None

    return slack.wait_for(found, timeout=20)


def test_an_incident_of_thirty_alerts_and_a_huge_summary_gets_its_triage(
    slack: SlackWorkspace, bot: RunningBot
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=2)
    summary = "latency above the objective on the checkout path " * 3
    alerts = [
        alert(f"Alert{n:02d}", start, summary=summary[:110], namespace="prod", service="checkout")
        for n in range(30)
    ]
    alerts[0]["annotations"]["summary"] = "word " * 700  # 3,500 characters
    long_url = "https://runbooks.example/" + "segment/" * 600
    alerts[0]["annotations"]["runbook_url"] = long_url
    alerts[0]["generatorURL"] = "http://prometheus:9090/graph?g0.expr=" + "x" * 4000
    payload = webhook(*alerts)
    payload["externalURL"] = "http://alertmanager:9093/" + "a" * 3000
    post(bot, payload)
    replies = thread_of(slack, "checkout")
    triage = json.dumps(replies[1]["blocks"])
    assert "First triage" in triage
    assert "more" in triage or "Alert29" in triage
    assert refused(slack) == []


TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=5000)


def _block(kind: str, text: str) -> dict[str, Any]:
    if kind == "header":
        return {"type": "header", "text": {"type": "plain_text", "text": text or "x"}}
    if kind == "context":
        return {"type": "context", "elements": [{"type": "mrkdwn", "text": text or "x"}] * 12}
    if kind == "fields":
        return {"type": "section", "fields": [{"type": "mrkdwn", "text": text or "x"}] * 12}
    if kind == "button":
        return {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "a",
                    "text": {"type": "plain_text", "text": text or "x"},
                    "value": text[:2500],
                }
            ],
        }
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or "x"}}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["header", "context", "fields", "button", "section"]), TEXT),
        min_size=1,
        max_size=70,
    ),
    st.text(max_size=50_000),
)
def test_any_message_is_fitted_to_what_the_emulator_accepts(
    blocks: list[tuple[str, str]], text: str
) -> None:
    body = fit_message({"text": text, "blocks": [_block(k, t) for k, t in blocks]})
    assert validate_blocks(body["blocks"]) == []
    assert len(body["text"]) <= 40_000
    assert total_text_length(body["blocks"]) <= 12_000


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["header", "context", "fields", "button", "section"]), TEXT),
        min_size=1,
        max_size=260,
    )
)
def test_a_post_too_big_for_one_message_is_split_into_parts_slack_accepts(
    blocks: list[tuple[str, str]],
) -> None:
    body = {"channel": "C1", "text": "t", "blocks": [_block(k, t) for k, t in blocks]}
    parts = split_message(body)
    assert 1 <= len(parts) <= MAX_PARTS
    for part in parts:
        assert validate_blocks(part["blocks"]) == []
        assert total_text_length(part["blocks"]) <= 12_000
        assert part["channel"] == "C1"
    assert parts[0]["text"] == "t"
    kept = sum(len(p["blocks"]) for p in parts)
    if "… and" not in json.dumps(parts[-1]["blocks"][-1]):
        assert kept == len(blocks), "nothing is dropped while the parts can hold it"


def test_a_long_list_posted_through_the_bots_client_arrives_whole_across_a_thread() -> None:
    from tests.botharness import workspace

    slack = workspace(post_message_rate=0)
    try:
        client = build_web_client(slack.config.bot_token, slack.api_url, timeout=10)
        channel = slack.channel_id("incidents")
        lines = [f"• alert {n:03d} on checkout" for n in range(120)]
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": t}} for t in lines]
        answer = client.chat_postMessage(channel=channel, text="120 alerts", blocks=blocks)
        thread = slack.thread("incidents", str(answer["ts"]))
        shown = json.dumps([m.get("blocks", []) for m in thread], ensure_ascii=False)
        assert all(line in shown for line in lines)
        assert len(thread) == 3  # 50 + 50 + 20 blocks
        assert [m["text"] for m in thread[1:]] == ["(continued)", "(continued)"]
        assert refused(slack) == []
    finally:
        slack.close()


def test_the_emulator_refuses_what_slack_refuses_with_slacks_error_codes() -> None:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from tests.botharness import workspace

    slack = workspace(post_message_rate=0)
    client = WebClient(token=slack.config.bot_token, base_url=slack.api_url)
    channel = slack.channel_id("incidents")
    long_context = {"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 4683}]}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"blocks": [long_context], "text": "t"}, "invalid_blocks"),
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"blocks": [{"type": "divider"}] * 51, "text": "t"}, "invalid_blocks"),
    ]
    for args, code in cases:
        with pytest.raises(SlackApiError) as caught:
            client.api_call("chat.postMessage", json={"channel": channel, **args})
        assert caught.value.response["error"] == code
        if code == "invalid_blocks":
            messages = caught.value.response["response_metadata"]["messages"]
            assert messages
            assert all(m.startswith("[ERROR]") for m in messages)
    slack.close()
