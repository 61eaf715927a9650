"""All configuration, in one place, grouped by topic. Nothing else reads the environment.

Each group is its own settings class with its own prefix, so variables keep natural names
(`SLACK_BOT_TOKEN`, `OPSBOT_DATABASE_URL`, `OPSBOT_REDIS_URL`, `ANTHROPIC_API_KEY`). A
`.env` file in the working directory is read too.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_settings import BaseSettings

from bot.errors import ConfigError
from bot.settings.actions import AuditSettings, HttpHook, PolicySettings, RemediationSettings
from bot.settings.connections import (
    AlertmanagerSettings,
    CacheSettings,
    DatabaseSettings,
    LogSettings,
    ServerSettings,
    SlackSettings,
)
from bot.settings.investigation import LLMSettings, ToolsSettings, parse_prices
from bot.settings.reports import CapacitySettings, DigestSettings

__all__ = [
    "GROUPS",
    "AlertmanagerSettings",
    "AuditSettings",
    "CacheSettings",
    "CapacitySettings",
    "ConfigError",
    "DatabaseSettings",
    "DigestSettings",
    "HttpHook",
    "LLMSettings",
    "LogSettings",
    "PolicySettings",
    "RemediationSettings",
    "ServerSettings",
    "Settings",
    "SlackSettings",
    "ToolsSettings",
    "env_name",
    "load_settings",
    "masked",
    "parse_prices",
    "require_slack",
    "settings_table",
]


class Settings(BaseModel):
    """The effective configuration of one opsbot process."""

    slack: SlackSettings
    server: ServerSettings
    database: DatabaseSettings
    cache: CacheSettings
    alertmanager: AlertmanagerSettings
    policy: PolicySettings
    llm: LLMSettings
    tools: ToolsSettings
    remediation: RemediationSettings
    audit: AuditSettings
    digest: DigestSettings
    capacity: CapacitySettings
    log: LogSettings


GROUPS: dict[str, type[BaseSettings]] = {
    "slack": SlackSettings,
    "server": ServerSettings,
    "database": DatabaseSettings,
    "cache": CacheSettings,
    "alertmanager": AlertmanagerSettings,
    "policy": PolicySettings,
    "llm": LLMSettings,
    "tools": ToolsSettings,
    "remediation": RemediationSettings,
    "audit": AuditSettings,
    "digest": DigestSettings,
    "capacity": CapacitySettings,
    "log": LogSettings,
}


def env_name(group: type[BaseSettings], field: str) -> str:
    """The environment variable that sets `field` of `group`."""
    info = group.model_fields[field]
    if info.alias:
        return info.alias
    return f"{group.model_config.get('env_prefix', '')}{field}".upper()


def load_settings(**overrides: dict[str, Any]) -> Settings:
    """Read every group from the environment; a bad value raises ConfigError naming it."""
    values: dict[str, BaseSettings] = {}
    for name, group in GROUPS.items():
        try:
            values[name] = group(**overrides.get(name, {}))
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                if not err["loc"]:  # a rule across fields: its message names the variables
                    problems.append(str(err["msg"]).removeprefix("Value error, "))
                    continue
                field = str(err["loc"][0])
                variable = env_name(group, field) if field in group.model_fields else field
                problems.append(f"{variable}: {err['msg']}")
            raise ConfigError("invalid setting " + "; ".join(problems)) from None
    return Settings.model_validate(values)


def require_slack(settings: Settings) -> None:
    """Fail with the variable's name when the chosen Slack mode lacks a credential."""
    slack = settings.slack
    if slack.bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set: the bot cannot call Slack without it")
    if slack.mode == "http" and slack.signing_secret is None:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode cannot verify Slack's requests "
            "(or set SLACK_APP_TOKEN to use Socket Mode)"
        )


def require_webhook_auth(settings: Settings) -> None:
    """`opsbot run` serves the Alertmanager webhook only with credentials, unless the
    operator says in so many words that it may be open."""
    am = settings.alertmanager
    if not am.authenticated and not am.allow_unauthenticated:
        raise ConfigError(
            "the Alertmanager webhook has no credentials: set OPSBOT_ALERTMANAGER_BEARER_TOKEN "
            "(or OPSBOT_ALERTMANAGER_USERNAME and OPSBOT_ALERTMANAGER_PASSWORD), or set "
            "OPSBOT_ALERTMANAGER_ALLOW_UNAUTHENTICATED=true to serve it open"
        )


def masked(settings: Settings) -> dict[str, dict[str, Any]]:
    """Settings as plain data with every secret replaced by a mask, for `opsbot config`."""
    out: dict[str, dict[str, Any]] = {}
    for name in GROUPS:
        group: BaseSettings = getattr(settings, name)
        row: dict[str, Any] = {}
        for field in type(group).model_fields:
            value = getattr(group, field)
            if isinstance(value, SecretStr):
                raw = value.get_secret_value()
                value = (raw[:5] + "…" + "*" * 6) if len(raw) > 8 else "******"
            row[env_name(type(group), field)] = _without_credentials(value)
        out[name] = row
    return out


URL_PASSWORD = re.compile(r"(?<=://)([^/@:\s]*):[^/@\s]+@")


def _without_credentials(value: Any) -> Any:
    """Passwords inside URLs (`postgresql://user:pw@host`) and HTTP hooks' headers masked:
    they are plain settings, not SecretStr, but no less secret."""
    if isinstance(value, str):
        return URL_PASSWORD.sub(r"\1:******@", value)
    if isinstance(value, dict):
        return {key: _without_credentials(item) for key, item in value.items()}
    if isinstance(value, HttpHook):
        shown = value.model_dump()
        shown["url"] = _without_credentials(value.url)
        shown["headers"] = dict.fromkeys(value.headers, "******")
        return shown
    return value


def settings_table() -> str:
    """The settings reference as a Markdown table (the README embeds it; a test keeps it fresh)."""
    lines = ["| variable | default | what it sets |", "|---|---|---|"]
    for group in GROUPS.values():
        for field, info in group.model_fields.items():
            default = info.default
            shown = "" if default is None else f"`{default}`"
            lines.append(f"| `{env_name(group, field)}` | {shown} | {info.description or ''} |")
    return "\n".join(lines)
