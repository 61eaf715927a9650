"""Prometheus metrics of one opsbot process, in a registry of its own (served at /metrics)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.http_requests = Counter(
            "opsbot_http_requests", "HTTP requests served.", ["route", "status"], registry=r
        )
        self.slack_requests = Counter(
            "opsbot_slack_requests",
            "Slack requests by kind and outcome (accepted, unsigned, bad_signature, stale, "
            "replayed, malformed).",
            ["kind", "outcome"],
            registry=r,
        )
        self.handler_latency = Histogram(
            "opsbot_handler_latency_seconds",
            "Time from a listener's start to its end, by listener.",
            ["listener"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "opsbot_queue_depth", "Work items waiting, by queue.", ["queue"], registry=r
        )
        self.llm_tokens = Counter(
            "opsbot_llm_tokens",
            "LLM tokens used, by model and kind.",
            ["model", "kind"],
            registry=r,
        )
        self.actions = Counter(
            "opsbot_actions",
            "Remediation actions, by verdict and outcome.",
            ["verdict", "outcome"],
            registry=r,
        )
