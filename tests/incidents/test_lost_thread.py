"""An incident whose Slack message is gone (deleted, its channel gone, a reset workspace) is
re-posted once as a new header and continues there; the error is logged once, no retry loop."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.incidents.notifier import thread_gone
from bot.store.incidents import Incident, IncidentEvent
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot
from tests.incidents.amfixtures import alert, webhook

Json = dict[str, Any]


def open_incident(slack: SlackWorkspace, bot: RunningBot) -> Json:
    body = webhook(
        alert(
            "HighErrorRate",
            datetime.now(UTC),
            namespace="prod",
            service="checkout",
            severity="critical",
            summary="checkout 5xx above 5%",
        )
    )
    bot.bot.runtime.pipeline.accept(json.dumps(body).encode())
    header = slack.wait_for(
        lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=10
    )[0]
    slack.wait_for(lambda: len(slack.thread("incidents", str(header["ts"]))) >= 2, timeout=10)
    return header


def stored(bot: RunningBot) -> Incident:
    with bot.bot.deps.db.session() as session:
        incident = session.get(Incident, 1)
        assert incident is not None
        return incident


def headers(slack: SlackWorkspace) -> list[Json]:
    return [m for m in slack.messages("incidents") if m.get("bot_id")]


def test_an_incident_whose_header_was_deleted_is_reposted_once_and_continues_there(
    slack: SlackWorkspace, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    old = open_incident(slack, bot)
    bot_client = WebClient(token=slack.config.bot_token, base_url=slack.api_url)
    bot_client.chat_delete(channel=slack.channel_id("incidents"), ts=str(old["ts"]))
    slack.slash_command("U0BOB", "incidents", "/incident", "ack 1")
    new = slack.wait_for(lambda: headers(slack), timeout=10)[0]
    assert new["ts"] != old["ts"]
    slack.wait_for(lambda: stored(bot).thread_ts == new["ts"], timeout=10)
    slack.wait_for(
        lambda: "Acknowledged by <@U0BOB>" in json.dumps(headers(slack)[0]["blocks"]), timeout=10
    )
    triage = slack.wait_for(lambda: slack.thread("incidents", str(new["ts"]))[1:], timeout=10)
    assert "First triage" in triage[0]["text"]
    time.sleep(1.5)  # a retry loop would show up as more failed updates and log lines
    assert len(headers(slack)) == 1
    failed = [c for c in slack.calls("chat.update") if c.response.get("error")]
    assert len(failed) == 1
    assert caplog.text.count("incident thread gone in Slack") == 1
    assert "message_not_found" in caplog.text
    assert "Traceback" not in caplog.text
    with bot.bot.deps.db.session() as session:
        kinds = [e.kind for e in session.query(IncidentEvent).all()]
    assert "thread-lost" in kinds


def test_an_incident_whose_channel_is_gone_is_reposted_in_the_incidents_channel(
    slack: SlackWorkspace, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    old = open_incident(slack, bot)
    with bot.bot.deps.db.session() as session:
        incident = session.get(Incident, 1)
        assert incident is not None
        incident.channel = "C0GONE00"
        session.add(incident)
    slack.slash_command("U0BOB", "incidents", "/incident", "ack 1")
    slack.wait_for(lambda: len(headers(slack)) == 2, timeout=10)
    assert headers(slack)[1]["ts"] != old["ts"]
    slack.wait_for(lambda: stored(bot).channel == slack.channel_id("incidents"), timeout=10)
    assert caplog.text.count("incident thread gone in Slack") == 1
    assert "channel_not_found" in caplog.text


def test_a_resolved_incident_whose_header_is_gone_stops_writing_to_it(
    slack: SlackWorkspace, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    old = open_incident(slack, bot)
    bot_client = WebClient(token=slack.config.bot_token, base_url=slack.api_url)
    bot_client.chat_delete(channel=slack.channel_id("incidents"), ts=str(old["ts"]))
    slack.slash_command("U0BOB", "incidents", "/incident", "resolve 1")
    slack.wait_for(lambda: "incident thread gone in Slack" in caplog.text, timeout=10)
    time.sleep(1.5)
    assert caplog.text.count("incident thread gone in Slack") == 1
    assert headers(slack) == []
    failed = [c.method for c in slack.calls() if c.response.get("error")]
    assert failed == ["chat.update"]


def _error(name: str) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.update",
        req_args={},
        data={"ok": False, "error": name},
        headers={},
        status_code=200,
    )
    return SlackApiError(name, response)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("error", "gone"),
    [
        ("message_not_found", True),
        ("channel_not_found", True),
        ("thread_not_found", True),
        ("ratelimited", False),
        ("invalid_blocks", False),
    ],
)
def test_only_errors_saying_the_message_or_channel_is_gone_mean_repost(
    error: str, gone: bool
) -> None:
    assert (thread_gone(_error(error)) == error) is gone
