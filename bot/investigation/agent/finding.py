"""What an investigation produces, whichever engine answered: a `Finding` with its evidence,
proposals and the metric changes noticed, wrapped in an `Investigation` that says how."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from policies import ProposedAction
from tools.base import Evidence


class Engine(StrEnum):
    CLAUDE = "claude"
    PATTERN = "pattern"


class MetricChange(BaseModel):
    """A robust change point in one series: the level before and after, and when."""

    query: str
    series: str
    at: datetime
    before: float
    after: float
    score: float = Field(description="Shift in robust standard deviations (MAD units).")

    @property
    def direction(self) -> str:
        return "up" if self.after > self.before else "down"

    def describe(self) -> str:
        return f"{self.series} went {self.direction} from {self.before:.3g} to {self.after:.3g}"


class Finding(BaseModel):
    summary: str
    root_cause: str
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[Evidence] = Field(default_factory=list)
    proposals: list[ProposedAction] = Field(default_factory=list)
    recommendations: list[str] = Field(
        default_factory=list, description="Advice outside the closed action set."
    )
    changes: list[MetricChange] = Field(default_factory=list)
    ruled_out: list[str] = Field(
        default_factory=list, description="Causes that were checked and did not fit."
    )
    rule: str | None = Field(None, description="The pattern rule that matched, if any.")
    fault_kind: str | None = Field(
        None,
        description=(
            "The kind of fault at the named service, when known: error, wrong-result, "
            "latency, cpu or memory."
        ),
    )
    suspects: list[str] = Field(
        default_factory=list,
        description="Services in the order the evidence implicates them, most likely first.",
    )
    notes: list[str] = Field(
        default_factory=list, description="Dropped proposals, missing sources, other signals."
    )


class Usage(BaseModel):
    """Tokens and cost of the model calls behind one answer."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_tokens
            + self.cache_read_tokens
        )

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_creation_tokens += other.cache_creation_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cost_usd += other.cost_usd


class Investigation(BaseModel):
    """A finding plus how it came about."""

    finding: Finding
    engine: Engine
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
    steps: int = 0
    cached: bool = False
    fallback_reason: str | None = Field(
        None, description="Why the pattern engine answered instead of Claude."
    )
