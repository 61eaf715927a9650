"""The model-call ledger: one row per Messages API call, priced when it was made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Float
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow


class LLMUsage(SQLModel, table=True):
    """What one model call cost, against the incident or question and the workflow."""

    __tablename__ = "llm_usage"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), index=True)
    )
    workflow: str = Field(max_length=40, description="incident, ask, log_query, escalation...")
    incident_id: int | None = Field(default=None, index=True)
    question_id: str | None = Field(default=None, max_length=64, index=True)
    model: str = Field(max_length=100)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
