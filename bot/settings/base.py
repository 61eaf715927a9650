"""What every settings group shares: where values come from."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict


def settings_config(prefix: str) -> SettingsConfigDict:
    """Environment variables with `prefix`, then a `.env` file; unknown names are ignored."""
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", extra="ignore", validate_default=True
    )
