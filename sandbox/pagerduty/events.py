"""Events API v2 semantics: validating an event, and alerts keyed by routing and dedup key.

Validation messages follow the shape PagerDuty answers with (400, status "invalid event",
message "Event object is invalid", a list of errors). Accepted events get 202; an
acknowledge or resolve for no open alert is accepted and then dropped, as PagerDuty does.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
ROUTING_KEY_LENGTH = 32
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_event(event: Any) -> list[str]:
    """The errors PagerDuty would list for this event (empty: valid)."""
    if not isinstance(event, dict):
        return ["Event object is not a JSON object"]
    errors: list[str] = []
    key = event.get("routing_key")
    if _blank(key):
        errors.append("'routing_key' is missing or blank")
    elif not isinstance(key, str) or len(key) != ROUTING_KEY_LENGTH:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = event.get("event_action")
    if _blank(action):
        errors.append("'event_action' is missing or blank")
    elif action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > MAX_DEDUP_KEY):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and _blank(dedup):
        errors.append("'dedup_key' is missing or blank")
    if action == "trigger":
        errors.extend(_payload_errors(event.get("payload")))
    return errors


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or blank"]
    errors = [
        f"'payload.{name}' is missing or blank"
        for name in ("summary", "source", "severity")
        if _blank(payload.get(name))
    ]
    severity = payload.get("severity")
    if not _blank(severity) and severity not in SEVERITIES:
        errors.append(
            "'payload.severity' is invalid (must be one of the following: "
            "'critical', 'warning', 'error' or 'info')"
        )
    return errors


@dataclass
class Alert:
    routing_key: str
    dedup_key: str
    summary: str
    severity: str
    source: str
    status: str = "triggered"
    triggered_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    resolved_at: datetime | None = None
    log: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class EventLog:
    """Every accepted event and the alerts they make, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        self.alerts: list[Alert] = []

    def _open(self, routing_key: str, dedup_key: str) -> Alert | None:
        return next(
            (
                a
                for a in reversed(self.alerts)
                if a.routing_key == routing_key
                and a.dedup_key == dedup_key
                and a.status != "resolved"
            ),
            None,
        )

    def accept(self, event: dict[str, Any]) -> str:
        """Apply a valid event; returns its dedup key (generated for a keyless trigger)."""
        action = str(event["event_action"])
        routing_key = str(event["routing_key"])
        dedup_key = str(event.get("dedup_key") or uuid.uuid4().hex)
        with self.lock:
            self.events.append({**event, "dedup_key": dedup_key})
            alert = self._open(routing_key, dedup_key)
            if action == "trigger":
                payload = event["payload"]
                if alert is None:
                    alert = Alert(
                        routing_key=routing_key,
                        dedup_key=dedup_key,
                        summary=str(payload["summary"])[:MAX_SUMMARY],
                        severity=str(payload["severity"]),
                        source=str(payload["source"]),
                        details=dict(payload.get("custom_details") or {}),
                    )
                    self.alerts.append(alert)
                alert.log.append("trigger")
            elif alert is not None:  # acknowledge/resolve of nothing open: dropped
                alert.log.append(action)
                if action == "resolve":
                    alert.status, alert.resolved_at = "resolved", datetime.now(UTC)
                elif alert.status == "triggered":
                    alert.status = "acknowledged"
        return dedup_key
