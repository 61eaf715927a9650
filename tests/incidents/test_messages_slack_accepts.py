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

from bot.slack.fit import fit_message
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
