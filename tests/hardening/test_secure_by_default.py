"""Secure by default: webhook credentials that only look set are refused at start, an open
webhook needs saying so, and /readyz names the failed check, never where the database is."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bot.cli.root import cli
from bot.errors import ConfigError
from bot.settings import load_settings
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import running_bot
from tests.conftest import drop_pg, fresh_pg_url


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OPSBOT_ALERTMANAGER_PASSWORD": "pw"}, "OPSBOT_ALERTMANAGER_USERNAME"),
        ({"OPSBOT_ALERTMANAGER_USERNAME": "am"}, "OPSBOT_ALERTMANAGER_PASSWORD"),
        (
            {"OPSBOT_ALERTMANAGER_USERNAME": "am", "OPSBOT_ALERTMANAGER_PASSWORD": ""},
            "OPSBOT_ALERTMANAGER_PASSWORD",
        ),
        ({"OPSBOT_ALERTMANAGER_BEARER_TOKEN": ""}, "OPSBOT_ALERTMANAGER_BEARER_TOKEN"),
        ({"OPSBOT_ALERTMANAGER_BEARER_TOKEN": "  "}, "OPSBOT_ALERTMANAGER_BEARER_TOKEN"),
    ],
)
def test_webhook_credentials_that_only_look_set_are_refused_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=named):
        load_settings()


def test_opsbot_run_refuses_an_open_webhook_unless_told_it_may_be_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    refused = CliRunner().invoke(cli, ["run"])
    assert refused.exit_code == 2
    assert "OPSBOT_ALERTMANAGER_ALLOW_UNAUTHENTICATED=true" in refused.output
    assert "OPSBOT_ALERTMANAGER_BEARER_TOKEN" in refused.output


def test_readyz_names_the_failed_check_and_not_where_the_database_lives(
    slack: SlackWorkspace, tmp_path: Path
) -> None:
    url = fresh_pg_url()
    try:
        with running_bot(slack, database_url=url) as bot:
            ready = httpx.get(f"{bot.url}/readyz", timeout=10).json()
            assert ready["warnings"] == [
                "the Alertmanager webhook accepts requests without credentials"
            ]
            drop_pg(url)
            answer = httpx.get(f"{bot.url}/readyz", timeout=30)
            assert answer.status_code == 503
            assert answer.json()["failed"] == ["database"]
            assert answer.json()["checks"]["database"].startswith("down: ")
            assert "127.0.0.1" not in answer.text
            assert "5432" not in answer.text
    finally:
        drop_pg(url)
