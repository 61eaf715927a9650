"""What is being investigated: an incident's alerts, a question, the thread so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


class Workflow(StrEnum):
    """Why the model is called; decides the model tier and labels the cost ledger."""

    INCIDENT = "incident"
    ASK = "ask"
    LOG_QUERY = "log_query"
    ESCALATION = "escalation"


@dataclass(frozen=True)
class AlertContext:
    """One alert as the investigation sees it; labels and annotations are untrusted text."""

    name: str
    status: str
    starts_at: datetime
    labels: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Turn:
    """One earlier message of the conversation (rebuilt from the Slack thread)."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class InvestigationRequest:
    workflow: Workflow
    question: str
    now: datetime
    incident_id: int | None = None
    question_id: str | None = None
    title: str = ""
    namespace: str | None = None
    service: str | None = None
    alerts: tuple[AlertContext, ...] = ()
    history: tuple[Turn, ...] = ()

    @property
    def subject(self) -> str:
        if self.incident_id is not None:
            return f"incident #{self.incident_id}"
        return f"question {self.question_id or '?'}"
