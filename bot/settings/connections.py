"""How opsbot reaches Slack, serves HTTP, stores state, caches, takes alerts and logs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from bot.settings.base import settings_config


class SlackSettings(BaseSettings):
    """How the bot reaches Slack."""

    model_config = settings_config("SLACK_")

    bot_token: SecretStr | None = Field(None, description="Bot user OAuth token (`xoxb-...`).")
    signing_secret: SecretStr | None = Field(
        None, description="Signing secret used to verify HTTP-mode requests from Slack."
    )
    app_token: SecretStr | None = Field(
        None, description="App-level token (`xapp-...`); when set the bot uses Socket Mode."
    )
    api_url: str = Field(
        "https://slack.com/api/", description="Web API base URL (the dev workspace sets its own)."
    )
    incidents_channel: str = Field(
        "incidents", description="Channel (name or id) where incident threads are opened."
    )
    post_rate_per_channel: float = Field(
        1.0, ge=0, description="Messages per second the bot sends to one channel (0 = unpaced)."
    )
    post_burst_per_channel: int = Field(
        1,
        ge=1,
        description="Messages the bot may send to one channel at once before pacing "
        "(with 2 or more, one is kept in reserve for new incident threads).",
    )
    # Slack limits chat.update per method per workspace (Web API Tier 3, "50+ per minute"),
    # apart from chat.postMessage: https://docs.slack.dev/apis/web-api/rate-limits
    edit_rate_per_workspace: float = Field(
        0.8,
        ge=0,
        description="Message edits (`chat.update`) per second the bot makes in "
        "the workspace, paced apart from posts (0 = paced as posts to the channel).",
    )
    edit_burst_per_workspace: int = Field(
        3, ge=1, description="Message edits the bot may make at once before pacing."
    )
    request_max_age_seconds: int = Field(
        300, ge=30, description="Oldest accepted `X-Slack-Request-Timestamp`, in seconds."
    )
    api_timeout_seconds: int = Field(
        10, ge=1, le=120, description="Seconds the bot waits for one Slack Web API answer."
    )

    @field_validator("bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with 'xoxb-'")
        return value

    @field_validator("app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with 'xapp-'")
        return value

    @property
    def mode(self) -> Literal["socket", "http"]:
        return "socket" if self.app_token is not None else "http"


class ServerSettings(BaseSettings):
    """The HTTP server (Slack HTTP mode, webhooks, health and metrics)."""

    model_config = settings_config("OPSBOT_")

    host: str = Field("127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(3000, ge=0, le=65535, description="Port the HTTP server binds (0 = any).")
    public_url: str | None = Field(
        None, description="Externally reachable base URL, used in links and the manifest."
    )
    worker_threads: int = Field(
        8, ge=1, le=256, description="Threads for slow work done after a listener acks."
    )
    request_read_timeout: float = Field(
        10.0,
        gt=0,
        le=300,
        description="Seconds a client has to send a whole request (headers and body) once "
        "it connects or starts one; a connection that sends nothing or trickles bytes is "
        "closed.",
    )


class DatabaseSettings(BaseSettings):
    """The durable store (incidents, alerts, approvals, audit)."""

    model_config = settings_config("OPSBOT_DATABASE_")

    url: str = Field(
        "sqlite:///opsbot.db",
        description="SQLAlchemy URL; SQLite file by default, e.g. "
        "`postgresql+psycopg://user@host/db` for PostgreSQL.",
    )
    pool_size: int = Field(5, ge=1, description="Connection pool size (PostgreSQL).")
    echo: bool = Field(False, description="Log every SQL statement.")

    @field_validator("url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value


class CacheSettings(BaseSettings):
    """The cache and coordination layer (locks, dedup, rate limits)."""

    model_config = settings_config("OPSBOT_REDIS_")

    url: str | None = Field(
        None, description="Redis URL (`redis://host:6379/0`); unset = in-process cache."
    )
    key_prefix: str = Field("opsbot:", description="Prefix of every key the bot writes.")

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// or rediss:// URL")
        return value


class AlertmanagerSettings(BaseSettings):
    """The Alertmanager webhook and API."""

    model_config = settings_config("OPSBOT_ALERTMANAGER_")

    bearer_token: SecretStr | None = Field(
        None, description="Token Alertmanager must send (`http_config.authorization`)."
    )
    username: str | None = Field(None, description="Basic-auth user Alertmanager must send.")
    password: SecretStr | None = Field(None, description="Basic-auth password.")
    max_body_bytes: int = Field(
        4_000_000, ge=1024, description="Largest accepted webhook body (413 above)."
    )
    url: str | None = Field(
        None, description="Alertmanager base URL, for silences (e.g. `http://am:9093`)."
    )
    rules_file: str | None = Field(
        None,
        description="Incident rules YAML (grouping, delays, mutes, routes); "
        "default: the shipped `policies/routing.yaml`.",
    )
    allow_unauthenticated: bool = Field(
        False,
        description="Let `opsbot run` serve the webhook without credentials (a warning is "
        "logged and shown on /readyz); otherwise set a bearer token or user and password.",
    )

    @model_validator(mode="after")
    def _consistent_auth(self) -> AlertmanagerSettings:
        """Refuse settings that look protected but are not (a password without a user is
        ignored; a user without a password or an empty token accepts anyone who knows it)."""
        token = self.bearer_token.get_secret_value() if self.bearer_token is not None else None
        password = self.password.get_secret_value() if self.password is not None else None
        if token is not None and not token.strip():
            raise ValueError(
                "OPSBOT_ALERTMANAGER_BEARER_TOKEN is set but empty: give it a value or unset it"
            )
        if password is not None and not self.username:
            raise ValueError(
                "OPSBOT_ALERTMANAGER_PASSWORD is set without OPSBOT_ALERTMANAGER_USERNAME: "
                "set both for basic auth"
            )
        if self.username is not None and not password:
            raise ValueError(
                "OPSBOT_ALERTMANAGER_USERNAME is set without OPSBOT_ALERTMANAGER_PASSWORD "
                "(or with an empty one): set both for basic auth"
            )
        return self

    @property
    def authenticated(self) -> bool:
        """Whether the webhook asks for credentials."""
        return self.bearer_token is not None or self.username is not None


class LogSettings(BaseSettings):
    """Process logging."""

    model_config = settings_config("OPSBOT_LOG_")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    json_output: bool = Field(False, alias="OPSBOT_LOG_JSON", description="JSON log lines.")
    tracemalloc_seconds: float = Field(
        0.0,
        ge=0,
        description="Debugging leaks: log allocation growth every N seconds (0 = off; costly).",
    )
