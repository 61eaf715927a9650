"""`opsbot run` as a real process logs its background jobs to stderr at the configured level.

Bolt once named its App "opsbot" and, on every Slack request, copied its own logger's
level (WARNING) onto the `opsbot` logger, the parent of all of ours: after the first
request the info lines of background jobs ("answered", "incident thread opened") were
gone. So here a Slack request comes first, then two background jobs run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import SIGNING_SECRET
from tests.botprocess import BotProcess
from tests.conftest import drop_pg, fresh_pg_url

AM_BEARER = "am-bearer-LOGTEST-5e1f0c7a"
DB_PASSWORD = "Pw-LOGTEST-3b9d"
GITHUB_TOKEN = "ghp_LOGTESTgithubTOKEN0123456789abcdefAB"
LABELS = {"alertname": "HighErrorRate", "namespace": "prod", "service": "checkout"}
ALERT = {
    "receiver": "opsbot",
    "status": "firing",
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate", service="checkout"}',
    "externalURL": "http://alertmanager:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {**LABELS, "severity": "critical", "pod": "checkout-6c9d-0"},
            "annotations": {"summary": "checkout 5xx ratio above 5%"},
            "startsAt": "2026-11-23T09:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
        }
    ],
}


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = fresh_pg_url()
    yield url
    drop_pg(url)


def run_bot_through_a_request_and_two_jobs(
    slack: SlackWorkspace, tmp_path: Path, pg_url: str, json_output: bool
) -> str:
    """Start the process, ask a question over Slack (answered by a background job), post
    an alert (whose thread a background job opens), stop; return everything on stderr."""
    with_password = pg_url.replace("postgres@", f"postgres:{DB_PASSWORD}@")  # trust auth
    bot = BotProcess(
        slack,
        tmp_path,
        OPSBOT_DATABASE_URL=with_password,
        OPSBOT_LOG_LEVEL="INFO",
        OPSBOT_LOG_JSON="1" if json_output else "0",
        OPSBOT_ALERTMANAGER_BEARER_TOKEN=AM_BEARER,
        OPSBOT_DIGEST_GITHUB_TOKEN=GITHUB_TOKEN,
        # a source to read (down: the pattern engine answers, saying what it could not read)
        OPSBOT_PROMETHEUS_URL="http://127.0.0.1:9",
    ).start(timeout=120)
    try:
        slack.configure(bot_url=f"{bot.url}/slack/events")
        slack.slash_command("U0ALICE", "general", "/ask-ai", "is checkout healthy in prod?")
        slack.wait_for(lambda: "answered" in bot.log_path.read_text(), timeout=60)
        posted = httpx.post(
            f"{bot.url}/alertmanager",
            json=ALERT,
            headers={"Authorization": f"Bearer {AM_BEARER}"},
            timeout=30,
        )
        assert posted.status_code == 200
        slack.wait_for(lambda: "incident thread opened" in bot.log_path.read_text(), timeout=60)
    finally:
        bot.stop()
    return bot.log_path.read_text()


def secrets(slack: SlackWorkspace) -> list[str]:
    return [slack.config.bot_token, SIGNING_SECRET, AM_BEARER, DB_PASSWORD, GITHUB_TOKEN]


def test_background_job_info_lines_reach_stderr_as_json_without_secrets(
    slack: SlackWorkspace, tmp_path: Path, pg_url: str
) -> None:
    stderr = run_bot_through_a_request_and_two_jobs(slack, tmp_path, pg_url, json_output=True)
    lines: list[dict[str, Any]] = [json.loads(line) for line in stderr.splitlines() if line]
    by_event = {line["event"]: line for line in lines}
    assert by_event["answered"]["level"] == "info"
    assert by_event["answered"]["engine"] == "pattern"
    opened = by_event["incident thread opened"]
    assert opened["level"] == "info"
    assert opened["channel"] == "C0INCIDENTS"
    assert opened["ts"]
    assert all("timestamp" in line for line in lines)
    for secret in secrets(slack):
        assert secret not in stderr


def test_background_job_info_lines_reach_stderr_as_key_values_by_default(
    slack: SlackWorkspace, tmp_path: Path, pg_url: str
) -> None:
    stderr = run_bot_through_a_request_and_two_jobs(slack, tmp_path, pg_url, json_output=False)
    info = [line for line in stderr.splitlines() if "[info     ]" in line]
    assert any(" answered " in line and "engine=pattern" in line for line in info)
    assert any("incident thread opened" in line and "incident=1" in line for line in info)
    for secret in secrets(slack):
        assert secret not in stderr
