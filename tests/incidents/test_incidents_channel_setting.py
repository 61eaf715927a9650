"""SLACK_INCIDENTS_CHANNEL is where the shipped catch-all route opens incident threads, and
a channel name that cannot be resolved is reported once, not looked up every sync."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot
from tests.incidents.amfixtures import alert, webhook


def post(bot: RunningBot, name: str) -> None:
    body = json.dumps(webhook(alert(name, datetime.now(UTC), service=name.lower()))).encode()
    answer = httpx.post(
        f"{bot.url}/alertmanager",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200


def test_the_catch_all_route_uses_the_incidents_channel_setting(
    slack: SlackWorkspace, tmp_path: Path
) -> None:
    general = slack.channel_id("general")
    with running_bot(
        slack,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        slack={"incidents_channel": general},
    ) as bot:
        post(bot, "RoutedByTheSetting")
        slack.wait_for(
            lambda: [m for m in slack.messages("general") if "RoutedByTheSetting" in str(m)],
            timeout=15,
        )
    assert slack.calls("conversations.list") == []


def test_a_channel_that_cannot_be_resolved_is_reported_once(
    slack: SlackWorkspace, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with running_bot(
        slack,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        slack={"incidents_channel": "no-such-channel"},
    ) as bot:
        for name in ("First", "Second", "Third"):
            post(bot, name)
        slack.wait_for(lambda: bot.bot.runtime.pipeline.pending() == 0 or None, timeout=15)
        for _ in range(3):
            bot.bot.runtime.notifier.catch_up()
    logged = capfd.readouterr()
    assert (logged.out + logged.err).count("slack channel cannot be used") == 1
    assert len(slack.calls("conversations.list")) == 1
