"""All configuration, in one place, grouped by topic. Nothing else reads the environment.

Each group is its own settings class with its own prefix, so variables keep natural names
(`SLACK_BOT_TOKEN`, `OPSBOT_DATABASE_URL`, `OPSBOT_REDIS_URL`, `ANTHROPIC_API_KEY`). A
`.env` file in the working directory is read too.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", extra="ignore", validate_default=True
    )


class SlackSettings(BaseSettings):
    """How the bot reaches Slack."""

    model_config = _config("SLACK_")

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

    model_config = _config("OPSBOT_")

    host: str = Field("127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(3000, ge=0, le=65535, description="Port the HTTP server binds (0 = any).")
    public_url: str | None = Field(
        None, description="Externally reachable base URL, used in links and the manifest."
    )
    worker_threads: int = Field(
        8, ge=1, le=256, description="Threads for slow work done after a listener acks."
    )


class DatabaseSettings(BaseSettings):
    """The durable store (incidents, alerts, approvals, audit)."""

    model_config = _config("OPSBOT_DATABASE_")

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

    model_config = _config("OPSBOT_REDIS_")

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

    model_config = _config("OPSBOT_ALERTMANAGER_")

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


class PolicySettings(BaseSettings):
    """Remediation policies (see `policies/default.yaml` for the shipped rules)."""

    model_config = _config("OPSBOT_POLICY_")

    files: str = Field(
        "", description="Comma-separated policy YAML files applied over the shipped defaults."
    )

    @property
    def paths(self) -> list[str]:
        return [p.strip() for p in self.files.split(",") if p.strip()]


class LLMSettings(BaseSettings):
    """Claude. Without an API key the deterministic pattern engine answers alone."""

    model_config = _config("ANTHROPIC_")

    api_key: SecretStr | None = Field(None, description="Anthropic API key; unset = no Claude.")
    base_url: str | None = Field(None, description="Messages API base URL override.")
    small_model: str = Field("claude-haiku-4-5", description="Classification and log batches.")
    mid_model: str = Field("claude-sonnet-4-5", description="Investigations.")
    large_model: str | None = Field(None, description="Optional model for escalations.")
    timeout_seconds: float = Field(60.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(
        2, ge=0, le=10, description="SDK retries of 429/529/5xx/timeouts (within the deadline)."
    )
    deadline_seconds: float = Field(
        120.0, gt=0, description="Whole-investigation deadline; past it the pattern engine answers."
    )
    max_steps: int = Field(8, ge=2, le=30, description="Model calls per investigation.")
    max_output_tokens: int = Field(2048, ge=256, description="`max_tokens` of each model call.")
    investigation_token_budget: int = Field(
        150_000, ge=1000, description="Input+output tokens one investigation may spend."
    )
    prices: str = Field(
        "claude-haiku-4-5=1/5,claude-sonnet-4-5=3/15,claude-opus-4-5=5/25",
        description="USD per million input/output tokens by model (`model=in/out,...`); "
        "cache writes cost 1.25x input, cache reads 0.1x.",
    )
    daily_budget_usd: float | None = Field(
        20.0, ge=0, description="Daily spend cap; warnings at 50/80/100 %, then the pattern engine."
    )
    monthly_budget_usd: float | None = Field(
        400.0, ge=0, description="Monthly spend cap (UTC calendar month), same warnings."
    )
    budget_channel: str | None = Field(
        None, description="Channel for budget warnings; default: the incidents channel."
    )
    escalate_below_confidence: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Re-run with the large model below this confidence (0 = never).",
    )
    answer_cache_seconds: float = Field(
        300.0, ge=0, description="How long a model answer is reused for the same inputs."
    )
    tool_cache_seconds: float = Field(
        60.0, ge=0, description="How long a tool result is reused for the same call."
    )
    redact_patterns: list[str] = Field(
        [],
        description="Extra regexes masked before text reaches the model (JSON list).",
    )
    reveal_redacted: bool = Field(
        False,
        description="Show masked emails, IP addresses and phone numbers unmasked in Slack "
        "answers (the model never sees them; credentials and card numbers stay masked).",
    )

    @field_validator("prices")
    @classmethod
    def _price_table_shape(cls, value: str) -> str:
        parse_prices(value)
        return value

    @field_validator("redact_patterns")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from None
        return value

    @property
    def enabled(self) -> bool:
        return self.api_key is not None

    @property
    def price_table(self) -> dict[str, tuple[float, float]]:
        return parse_prices(self.prices)


def parse_prices(text: str) -> dict[str, tuple[float, float]]:
    """`model=in/out,...` (USD per million tokens) as {model: (input, output)}."""
    table: dict[str, tuple[float, float]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        model, _, price = item.partition("=")
        given, _, taken = price.partition("/")
        try:
            table[model.strip()] = (float(given), float(taken))
        except ValueError:
            raise ValueError(f"{item!r} is not model=input/output, e.g. claude-x=3/15") from None
    return table


class ToolsSettings(BaseSettings):
    """The data sources investigations read (each unset one is simply not offered)."""

    model_config = _config("OPSBOT_")

    prometheus_url: str | None = Field(None, description="Prometheus base URL.")
    logs_url: str | None = Field(None, description="Elasticsearch or OpenSearch base URL.")
    logs_flavor: Literal["elasticsearch", "opensearch"] = Field(
        "elasticsearch", description="Log store kind (opensearch sends plain application/json)."
    )
    logs_index: str = Field("logs-*", description="Index pattern the log tools search.")
    jaeger_url: str | None = Field(None, description="Jaeger query service base URL.")
    kubeconfig: str | None = Field(None, description="Kubeconfig file for the Kubernetes tools.")
    kube_context: str | None = Field(None, description="Kubeconfig context (default: current).")
    kube_api_url: str | None = Field(
        None, description="API server URL when not using a kubeconfig (in-cluster)."
    )
    kube_token_path: str | None = Field(
        None, description="Service account token file used with the API URL."
    )
    kube_namespace: str = Field("default", description="Namespace when none is named.")
    tool_output_tokens: int = Field(1500, ge=100, description="Token budget of one tool result.")
    tool_timeout_seconds: float = Field(
        15.0, gt=0, le=300, description="Per-request timeout of every data-source call."
    )


class HttpHook(BaseModel):
    """A declared HTTP hook action: POST `body` to `url` (e.g. clear a cache, flush a CDN)."""

    url: str
    body: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: float = Field(10.0, gt=0)


class RemediationSettings(BaseSettings):
    """Acting on proposals: guards, validation, escalation and the self-healing watcher."""

    model_config = _config("OPSBOT_REMEDIATION_")

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

    model_config = _config("OPSBOT_AUDIT_")

    retention_days: int | None = Field(
        None, ge=1, description="Archive audit rows older than this; unset = keep all."
    )
    archive_dir: str = Field(
        "audit-archive", description="Directory of the gzip JSONL archives (and their anchors)."
    )


class DigestSettings(BaseSettings):
    """Scheduled digests and reports, and the log and trace analysis behind them.

    Schedules are crontab lines (`minute hour day month weekday`, weekday 0 = Sunday, an
    optional leading seconds field, `CRON_TZ=Zone` to override the time zone); empty turns
    a digest off. Runs missed during downtime run once at the next start when still recent
    (hourly: 30 min, daily: 6 h, weekly: 1 day, monthly: 3 days), else they are skipped.
    """

    model_config = _config("OPSBOT_DIGEST_")

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
        if value.strip():
            from bot.scheduler import parse_schedule  # the scheduler imports settings

            parse_schedule(value)
        return value

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

    model_config = _config("OPSBOT_CAPACITY_")

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
        1.5, ge=1.0, le=10.0, description="Recommended memory limit = max usage x this."
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
        if value.strip():
            from bot.scheduler import parse_schedule  # the scheduler imports settings

            parse_schedule(value)
        return value

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


class LogSettings(BaseSettings):
    """Process logging."""

    model_config = _config("OPSBOT_LOG_")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    json_output: bool = Field(False, alias="OPSBOT_LOG_JSON", description="JSON log lines.")
    tracemalloc_seconds: float = Field(
        0.0,
        ge=0,
        description="Debugging leaks: log allocation growth every N seconds (0 = off; costly).",
    )


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
                field = str(err["loc"][0]) if err["loc"] else "?"
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
