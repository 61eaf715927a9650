"""What every settings group shares: where values come from."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict


def settings_config(prefix: str) -> SettingsConfigDict:
    """Environment variables with `prefix`, then a `.env` file; unknown names are ignored."""
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", extra="ignore", validate_default=True
    )


def valid_crontab(value: str) -> str:
    """A schedule setting: empty (off) or a crontab line the scheduler accepts."""
    if value.strip():
        from bot.app.scheduler import parse_schedule  # the scheduler imports settings

        parse_schedule(value)
    return value
