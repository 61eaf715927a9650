"""What every settings group shares: where values come from."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from bot.settings.crontab import parse_schedule


def settings_config(prefix: str) -> SettingsConfigDict:
    """Environment variables with `prefix`, then a `.env` file; unknown names are ignored."""
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", extra="ignore", validate_default=True
    )


def valid_crontab(value: str) -> str:
    """A schedule setting: empty (off) or a crontab line the scheduler accepts."""
    if value.strip():
        parse_schedule(value)
    return value
