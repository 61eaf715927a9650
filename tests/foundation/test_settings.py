from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings, masked, require_slack


def test_with_no_configuration_the_bot_uses_sqlite_memory_cache_and_no_llm() -> None:
    settings = load_settings()
    assert settings.database.url.startswith("sqlite:///")
    assert settings.cache.url is None
    assert settings.llm.enabled is False
    assert settings.slack.mode == "http"


def test_a_postgres_url_selects_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSBOT_DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    assert load_settings().database.url == "postgresql+psycopg://postgres@127.0.0.1/test"


def test_an_invalid_database_url_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPSBOT_DATABASE_URL", "mysql://nope")
    with pytest.raises(ConfigError, match="OPSBOT_DATABASE_URL"):
        load_settings()


def test_an_invalid_port_fails_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSBOT_PORT", "seventy")
    with pytest.raises(ConfigError, match="OPSBOT_PORT"):
        load_settings()


def test_a_user_token_in_place_of_the_bot_token_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-user-token")
    with pytest.raises(ConfigError, match=r"SLACK_BOT_TOKEN: .*xoxb-"):
        load_settings()


def test_http_mode_without_a_signing_secret_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        require_slack(load_settings())


def test_an_app_token_switches_to_socket_mode_which_needs_no_signing_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-abc")
    settings = load_settings()
    assert settings.slack.mode == "socket"
    require_slack(settings)


def test_masked_settings_never_show_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret-token-value")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-supersecret")
    text = json.dumps(masked(load_settings()), default=str)
    assert "very-secret" not in text
    assert "supersecret" not in text
    assert "SLACK_BOT_TOKEN" in text


def test_opsbot_config_prints_the_effective_settings_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "abcdef0123456789")
    monkeypatch.setenv("OPSBOT_REDIS_URL", "redis://127.0.0.1:6379/0")
    out = subprocess.run(
        [sys.executable, "-m", "bot", "config", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    assert data["cache"]["OPSBOT_REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert "0123456789" not in out


def test_opsbot_refuses_to_start_with_a_bad_setting_and_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPSBOT_REDIS_URL", "http://not-redis")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "config"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "OPSBOT_REDIS_URL" in result.stderr
