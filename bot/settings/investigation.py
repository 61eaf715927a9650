"""What investigations use: the model (Claude) and the data-source tools."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from bot.settings.base import settings_config


class LLMSettings(BaseSettings):
    """Claude. Without an API key the deterministic pattern engine answers alone."""

    model_config = settings_config("ANTHROPIC_")

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
        150_000,
        ge=1000,
        description="Tokens one investigation may spend: input and output count "
        "one each, cache writes 1.25 and cache reads 0.1 (their price relative to input).",
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

    model_config = settings_config("OPSBOT_")

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
