"""PagerDuty Events API v2: trigger and resolve alerts keyed by the incident (dedup key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.errors import DependencyDown, Retryable

Severity = Literal["critical", "error", "warning", "info"]


class PagerDuty:
    def __init__(self, url: str, routing_key: str, timeout: float = 10.0) -> None:
        self.url = url
        self.routing_key = routing_key
        self.timeout = timeout

    def trigger(
        self,
        dedup_key: str,
        summary: str,
        *,
        source: str,
        severity: Severity = "critical",
        at: datetime | None = None,
        details: dict[str, Any] | None = None,
        links: list[dict[str, str]] | None = None,
    ) -> str:
        payload: dict[str, Any] = {
            "summary": summary[:1024],
            "source": source,
            "severity": severity,
            "component": "opsbot",
            "custom_details": details or {},
        }
        if at is not None:
            payload["timestamp"] = at.isoformat()
        event: dict[str, Any] = {"event_action": "trigger", "dedup_key": dedup_key}
        event.update(payload=payload, client="opsbot", links=links or [])
        return self._send(event)

    def resolve(self, dedup_key: str) -> str:
        return self._send({"event_action": "resolve", "dedup_key": dedup_key})

    @retry(
        retry=retry_if_exception_type(Retryable),
        stop=stop_after_attempt(4),
        wait=wait_exponential(multiplier=0.2, max=5),
        reraise=True,
    )
    def _send(self, event: dict[str, Any]) -> str:
        """POST one event; 429 and 5xx are retried, 400 names what PagerDuty rejected."""
        body = {"routing_key": self.routing_key, **event}
        try:
            response = httpx.post(self.url, json=body, timeout=self.timeout)
        except httpx.TransportError as exc:
            raise Retryable(f"PagerDuty unreachable: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise Retryable(f"PagerDuty answered {response.status_code}")
        if response.status_code != 202:
            errors = _errors(response)
            raise DependencyDown(f"PagerDuty refused the event ({response.status_code}): {errors}")
        return str(response.json().get("dedup_key", event["dedup_key"]))


def _errors(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return "; ".join(body.get("errors") or [str(body.get("message", ""))])
