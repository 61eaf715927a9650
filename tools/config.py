"""Configuration handed to the tools. Tools never read the environment: the bot's settings
module builds these models and passes them in."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from tools.budget import OutputBudget


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    return value.rstrip("/")


BaseUrl = Annotated[str, AfterValidator(_base_url)]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrometheusConfig(_Config):
    url: BaseUrl = Field(
        description="Base URL of the Prometheus HTTP API, e.g. http://prometheus:9090."
    )
    ui_url: BaseUrl | None = Field(None, description="Base URL for links; defaults to url.")
    bearer_token: SecretStr | None = Field(None, description="Sent as Authorization: Bearer.")
    verify_tls: bool = Field(True, description="Verify the server certificate.")
    timeout_seconds: float = Field(15.0, gt=0, description="HTTP and query evaluation timeout.")
    max_range: timedelta = Field(timedelta(days=31), description="Longest range query window.")
    target_points: int = Field(
        250, ge=10, description="Points per series an automatic step aims at."
    )
    min_step: timedelta = Field(timedelta(seconds=15), description="Smallest step ever used.")
    max_points_per_series: int = Field(
        1100,
        ge=10,
        description="An explicit step giving more points is replaced by an automatic one.",
    )
    max_series: int = Field(200, ge=1, description="Series kept in structured data per result.")
    max_response_series: int = Field(
        20_000, ge=1, description="Results with more series are refused, not summarised."
    )
    shown_series: int = Field(10, ge=1, description="Series described in the model's content.")
    max_label_values: int = Field(1000, ge=1, description="Label values / series kept per lookup.")
    output: OutputBudget = Field(default_factory=OutputBudget)


class LogSearchConfig(_Config):
    url: BaseUrl = Field(description="Base URL of Elasticsearch or OpenSearch.")
    flavor: Literal["elasticsearch", "opensearch"] = Field(
        "elasticsearch",
        description="opensearch sends plain application/json instead of Elasticsearch's "
        "versioned media type (OpenSearch answers 406 to it) and accepts a non-Elastic server.",
    )
    index_pattern: str = Field("logs-*", description="Index pattern searched by every log tool.")
    timestamp_field: str = Field("@timestamp", description="Event time field.")
    service_field: str = Field("service.name", description="Service name (keyword) field.")
    level_field: str = Field("log.level", description="Log level (keyword) field.")
    message_field: str = Field("message", description="Full-text message field.")
    message_keyword_field: str = Field(
        "message.keyword", description="Keyword form of the message, for top-message aggregations."
    )
    error_levels: tuple[str, ...] = Field(
        ("error", "fatal", "critical"), description="Levels that count as errors (any case)."
    )
    tiebreaker_field: str = Field(
        "_doc", description="Second sort key for search_after paging (a unique field is best)."
    )
    api_key: SecretStr | None = Field(None, description="Elasticsearch API key.")
    username: str | None = Field(None, description="Basic auth user.")
    password: SecretStr | None = Field(None, description="Basic auth password.")
    verify_tls: bool = Field(True, description="Verify the server certificate.")
    timeout_seconds: float = Field(15.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(0, ge=0, description="Client retries on connection errors.")
    max_window: timedelta = Field(
        timedelta(days=7), description="Longest window a log tool searches."
    )
    max_page_size: int = Field(50, ge=1, le=10000, description="Most log lines per search call.")
    max_terms: int = Field(50, ge=1, description="Most buckets in a terms aggregation.")
    histogram_buckets: int = Field(60, ge=5, description="Buckets a date histogram aims at.")
    stream_batch_size: int = Field(1000, ge=1, le=10000, description="Page size when streaming.")
    message_chars: int = Field(300, ge=40, description="Longest message shown to the model.")
    kibana_url: BaseUrl | None = Field(None, description="Kibana / OpenSearch Dashboards base URL.")
    kibana_data_view: str | None = Field(
        None, description="Data view (index pattern) id for links."
    )
    output: OutputBudget = Field(default_factory=OutputBudget)


class JaegerConfig(_Config):
    url: BaseUrl = Field(
        description="Base URL of the Jaeger query service, e.g. http://jaeger:16686."
    )
    ui_url: BaseUrl | None = Field(None, description="Base URL for links; defaults to url.")
    bearer_token: SecretStr | None = Field(None, description="Sent as Authorization: Bearer.")
    verify_tls: bool = Field(True, description="Verify the server certificate.")
    timeout_seconds: float = Field(15.0, gt=0, description="Per-request timeout.")
    max_traces: int = Field(20, ge=1, le=1500, description="Most traces one search returns.")
    max_window: timedelta = Field(timedelta(days=2), description="Longest trace search window.")
    slowest_spans: int = Field(5, ge=1, description="Slowest spans described per trace.")
    output: OutputBudget = Field(default_factory=OutputBudget)


class KubernetesConfig(_Config):
    """How to reach the API server (kubeconfig file, or URL plus token) and the read caps."""

    api_url: BaseUrl | None = Field(
        None, description="API server URL, e.g. https://kubernetes.default.svc (with a token)."
    )
    bearer_token: SecretStr | None = Field(None, description="Service account token.")
    bearer_token_path: str | None = Field(
        None, description="File holding the token (an in-cluster service account mount)."
    )
    ca_cert_path: str | None = Field(None, description="CA bundle for the API server.")
    verify_tls: bool = Field(True, description="Verify the API server certificate.")
    kubeconfig_path: str | None = Field(
        None, description="Kubeconfig file; used instead of api_url when set."
    )
    context: str | None = Field(None, description="Kubeconfig context (default: current).")
    dashboard_url: BaseUrl | None = Field(
        None, description="Dashboard base URL for links (none are made without it)."
    )
    default_namespace: str = Field("default", description="Namespace when the model gives none.")
    allowed_namespaces: tuple[str, ...] = Field(
        (), description="Namespaces the tools may read; empty means all."
    )
    timeout_seconds: float = Field(15.0, gt=0, description="Per-request timeout.")
    max_pods: int = Field(50, ge=1, description="Most pods listed per call.")
    max_events: int = Field(50, ge=1, description="Most events listed per call.")
    max_log_lines: int = Field(200, ge=1, description="Most container log lines per call.")
    max_log_bytes: int = Field(64_000, ge=1024, description="Most container log bytes per call.")
    max_revisions: int = Field(10, ge=1, description="Most rollout revisions described.")
    output: OutputBudget = Field(default_factory=OutputBudget)


class ToolsConfig(_Config):
    """Which backends exist; a missing section means its tools are not offered."""

    prometheus: PrometheusConfig | None = None
    logs: LogSearchConfig | None = None
    jaeger: JaegerConfig | None = None
    kubernetes: KubernetesConfig | None = None
