"""Scheduled reports: digests and capacity analysis."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from bot.settings.base import settings_config, valid_crontab


class DigestSettings(BaseSettings):
    """Scheduled digests and reports, and the log and trace analysis behind them.

    Schedules are crontab lines (`minute hour day month weekday`, weekday 0 = Sunday, an
    optional leading seconds field, `CRON_TZ=Zone` to override the time zone); empty turns
    a digest off. Runs missed during downtime run once at the next start when still recent
    (hourly: 30 min, daily: 6 h, weekly: 1 day, monthly: 3 days), else they are skipped.
    """

    model_config = settings_config("OPSBOT_DIGEST_")

    enabled: bool = Field(
        True, description="Post digests on their schedules (on demand they work either way)."
    )
    timezone: str = Field("UTC", description="Time zone (IANA name) of the digest schedules.")
    channel: str = Field(
        "ops-digest", description="Channel (name or id) of every digest without its own."
    )
    incidents_schedule: str = Field("0 9 * * *", description="Daily incident digest (crontab).")
    incidents_channel: str | None = Field(None, description="Channel of the incident digest.")
    logs_schedule: str = Field("5 * * * *", description="Hourly log digest (crontab).")
    logs_channel: str | None = Field(None, description="Channel of the log digest.")
    performance_schedule: str = Field(
        "0 9 * * 1", description="Weekly performance report (crontab)."
    )
    performance_channel: str | None = Field(None, description="Channel of the performance report.")
    cost_daily_schedule: str = Field("15 9 * * *", description="Daily AI cost report (crontab).")
    cost_monthly_schedule: str = Field(
        "0 10 1 * *", description="Monthly AI cost report, for the month just ended (crontab)."
    )
    cost_channel: str | None = Field(None, description="Channel of the AI cost reports.")
    roi_schedule: str = Field(
        "30 10 1 * *", description="Monthly ROI report, for the month just ended (crontab)."
    )
    roi_channel: str | None = Field(None, description="Channel of the ROI report.")
    roi_hourly_rate_usd: float = Field(
        120.0, ge=0, description="ROI: loaded cost of one engineer hour."
    )
    roi_baseline_mttr_minutes: float = Field(
        120.0, ge=0, description="ROI: mean time to resolve before opsbot (the reference)."
    )
    roi_engineers_per_incident: float = Field(
        2.0, ge=0, description="ROI: people working an incident until it is resolved."
    )
    roi_outage_cost_per_hour_usd: float = Field(
        0.0, ge=0, description="ROI: cost of one hour of outage (0 = not counted)."
    )
    roi_infrastructure_monthly_usd: float = Field(
        100.0, ge=0, description="ROI: monthly cost of running opsbot besides AI spend."
    )
    log_baseline_windows: int = Field(
        6, ge=1, le=48, description="Earlier windows of equal length a log window is compared to."
    )
    log_max_lines: int = Field(
        200_000, ge=100, description="Most log lines one analysis streams (errors first)."
    )
    trace_lookback_hours: int = Field(
        168, ge=1, description="Window of the performance report's trace analysis."
    )
    trace_max_traces: int = Field(
        100, ge=5, le=1500, description="Slowest traces fetched per service for one analysis."
    )
    trace_services: str = Field(
        "", description="Comma-separated services to analyse (empty = every Jaeger service)."
    )
    github_token: SecretStr | None = Field(
        None, description="GitHub token that may create issues (with a repo: file trace findings)."
    )
    github_repo: str | None = Field(
        None, description="Repository (`owner/name`) trace findings are filed in; unset = off."
    )
    github_api_url: str = Field("https://api.github.com", description="GitHub REST API base URL.")
    github_max_issues: int = Field(3, ge=1, le=20, description="Most issues filed per report.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone, e.g. Europe/Paris") from None
        return value

    @field_validator(
        "incidents_schedule",
        "logs_schedule",
        "performance_schedule",
        "cost_daily_schedule",
        "cost_monthly_schedule",
        "roi_schedule",
    )
    @classmethod
    def _crontab(cls, value: str) -> str:
        return valid_crontab(value)

    @field_validator("github_repo")
    @classmethod
    def _owner_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", value):
            raise ValueError("must be owner/name")
        return value

    @property
    def service_list(self) -> list[str]:
        return [s.strip() for s in self.trace_services.split(",") if s.strip()]


class CapacitySettings(BaseSettings):
    """Capacity forecasts, rightsizing and idle resources (weekly digest, proactive incidents).

    Prices turn cores and GiB into money; the defaults are typical on-demand cloud prices.
    """

    model_config = settings_config("OPSBOT_CAPACITY_")

    enabled: bool = Field(
        True, description="Scan forecasts on `scan_schedule` and open proactive incidents."
    )
    scan_schedule: str = Field(
        "23 * * * *", description="Forecast scan that opens 'runs out in N days' incidents."
    )
    digest_schedule: str = Field(
        "0 8 * * 1", description="Weekly capacity and cost-optimisation digest (crontab)."
    )
    channel: str | None = Field(None, description="Channel of the capacity digest.")
    propose: bool = Field(
        True,
        description="After the digest, propose its rightsizing and idle-resource actions "
        "(policy-checked cards in the digest's thread).",
    )
    namespaces: str = Field("", description="Comma-separated namespaces to analyse (empty = all).")
    history_days: int = Field(28, ge=2, le=400, description="History a forecast is fitted on.")
    step_minutes: int = Field(60, ge=1, le=1440, description="Resolution of fitted history.")
    horizons_days: str = Field("7,30,90", description="Forecast horizons shown (days).")
    warn_within_days: float = Field(
        14.0, gt=0, description="Open a proactive incident when exhaustion is this close."
    )
    critical_within_days: float = Field(
        3.0, gt=0, description="Exhaustion this close makes the proactive incident critical."
    )
    confidence: float = Field(
        0.8, gt=0.5, lt=1.0, description="Prediction interval (and needed confidence) of forecasts."
    )
    min_history_days: float = Field(
        3.0, gt=0, description="Skip forecasts and rightsizing with less history than this."
    )
    rightsizing_window_days: int = Field(
        14, ge=1, le=90, description="Usage window of rightsizing (p95 and max)."
    )
    request_headroom: float = Field(
        1.2, ge=1.0, le=5.0, description="Recommended request = p95 usage x this."
    )
    limit_headroom: float = Field(
        1.5,
        ge=1.0,
        le=10.0,
        description="Recommended memory limit = max usage x this (never under 1.3).",
    )
    min_saving_usd_month: float = Field(
        5.0, ge=0, description="Smallest monthly saving worth a rightsizing recommendation."
    )
    cpu_core_hour_usd: float = Field(0.0316, ge=0, description="Price of one CPU core-hour.")
    memory_gib_hour_usd: float = Field(0.0042, ge=0, description="Price of one GiB-hour of RAM.")
    storage_gib_month_usd: float = Field(
        0.10, ge=0, description="Price of one GiB-month of persistent volume."
    )
    idle_days: float = Field(
        7.0, gt=0, description="No traffic or CPU near zero this long makes a workload idle."
    )
    idle_cpu_cores: float = Field(
        0.005, ge=0, description="CPU use (cores, p95) below which a workload counts as idle."
    )
    scaled_to_zero_days: float = Field(
        14.0, gt=0, description="Deployments at zero replicas this long are listed."
    )
    failed_job_days: float = Field(
        1.0, gt=0, description="Failed jobs older than this are listed as left behind."
    )

    @field_validator("scan_schedule", "digest_schedule")
    @classmethod
    def _crontab(cls, value: str) -> str:
        return valid_crontab(value)

    @field_validator("horizons_days")
    @classmethod
    def _horizons(cls, value: str) -> str:
        days = [part.strip() for part in value.split(",") if part.strip()]
        if not days or not all(part.isdigit() and int(part) > 0 for part in days):
            raise ValueError("must be comma-separated positive whole days, e.g. 7,30,90")
        return value

    @property
    def horizons(self) -> list[int]:
        return sorted({int(part) for part in self.horizons_days.split(",") if part.strip()})

    @property
    def namespace_list(self) -> list[str]:
        return [n.strip() for n in self.namespaces.split(",") if n.strip()]
