"""What may change production: policies, remediation and the audit log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings

from bot.settings.base import settings_config


class PolicySettings(BaseSettings):
    """Remediation policies (see `policies/default.yaml` for the shipped rules)."""

    model_config = settings_config("OPSBOT_POLICY_")

    files: str = Field(
        "", description="Comma-separated policy YAML files applied over the shipped defaults."
    )

    @property
    def paths(self) -> list[str]:
        return [p.strip() for p in self.files.split(",") if p.strip()]


class HttpHook(BaseModel):
    """A declared HTTP hook action: POST `body` to `url` (e.g. clear a cache, flush a CDN)."""

    url: str
    body: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float = Field(10.0, gt=0)


class RemediationSettings(BaseSettings):
    """Acting on proposals: guards, validation, escalation and the self-healing watcher."""

    model_config = settings_config("OPSBOT_REMEDIATION_")

    enabled: bool = Field(True, description="Handle proposed actions at all (false: ignore them).")
    breaker_window: int = Field(
        10, ge=1, le=100, description="Circuit breakers look at this many latest attempts."
    )
    breaker_failure_ratio: float = Field(
        0.3, gt=0, le=1, description="Failed share of the window that opens a breaker."
    )
    breaker_cooldown_seconds: float = Field(
        600.0, ge=0, description="Time an open breaker waits before letting one trial through."
    )
    max_actions_per_namespace_per_hour: int = Field(
        5, ge=0, description="Actions started per namespace in any hour (0 = none)."
    )
    max_actions_per_hour: int = Field(20, ge=0, description="Actions started overall per hour.")
    validation_deadline_seconds: float = Field(
        300.0, gt=0, description="How long validation waits for the signal to recover."
    )
    validation_interval_seconds: float = Field(
        15.0, gt=0, description="Pause between two checks of the triggering signal."
    )
    validation_hold_seconds: float = Field(
        120.0, ge=0, description="The signal must stay clear this long to count as recovered."
    )
    validation_worse_ratio: float = Field(
        0.25, ge=0, description="A signal this much above its value before the action is worse."
    )
    expiry_check_seconds: float = Field(
        30.0, gt=0, description="How often stale approval cards are expired."
    )
    oncall_group: str | None = Field(
        None, description="Slack user group (S...) mentioned on escalation; default: approvers."
    )
    pagerduty_routing_key: SecretStr | None = Field(
        None, description="PagerDuty Events API v2 integration key; unset = no paging."
    )
    pagerduty_url: str = Field(
        "https://events.pagerduty.com/v2/enqueue", description="PagerDuty Events API v2 URL."
    )
    hooks: dict[str, HttpHook] = Field(
        {}, description='Declared HTTP hooks (JSON): {"name": {"url": ..., "body": {...}}}.'
    )
    watcher_enabled: bool = Field(
        False, description="Watch Kubernetes for failing pods, nodes and rollouts."
    )
    watcher_not_ready_seconds: float = Field(
        300.0, ge=0, description="A node NotReady this long opens an incident."
    )
    watch_timeout_seconds: int = Field(
        60, ge=1, description="Length of one watch request before it is resumed."
    )


class AuditSettings(BaseSettings):
    """The audit log's retention."""

    model_config = settings_config("OPSBOT_AUDIT_")

    retention_days: int | None = Field(
        None, ge=1, description="Archive audit rows older than this; unset = keep all."
    )
    archive_dir: str = Field(
        "audit-archive", description="Directory of the gzip JSONL archives (and their anchors)."
    )
