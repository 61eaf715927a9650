"""What model calls cost: prices, the ledger (one row per call) and the spend budgets.

Budgets are checked before an investigation starts; at 100 % of the daily or monthly budget
the pattern engine answers until the period turns. Each of the 50/80/100 % thresholds is
announced once per period, across replicas (a cache `add` claims the announcement).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from bot.cache import Cache
from bot.investigation.agent.finding import Usage
from bot.investigation.agent.llm import TokenUsage
from bot.investigation.agent.request import InvestigationRequest
from bot.metrics import Metrics
from bot.store.db import Database
from bot.store.llm import LLMUsage

PER_MILLION = 1_000_000
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1
THRESHOLDS = (0.5, 0.8, 1.0)


def price_of(model: str, table: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    """Exact model id first, then the longest table entry the id starts with (dated ids)."""
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name)]
    return table[max(prefixes, key=len)] if prefixes else None


def call_cost(model: str, usage: TokenUsage, table: Mapping[str, tuple[float, float]]) -> float:
    price = price_of(model, table)
    if price is None:
        return 0.0
    given, taken = price
    return (
        usage.input_tokens * given
        + usage.cache_creation_tokens * given * CACHE_WRITE_FACTOR
        + usage.cache_read_tokens * given * CACHE_READ_FACTOR
        + usage.output_tokens * taken
    ) / PER_MILLION


def usage_of(usage: TokenUsage, cost: float) -> Usage:
    return Usage(
        calls=1,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_creation_tokens=usage.cache_creation_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cost_usd=cost,
    )


@dataclass(frozen=True)
class Budget:
    period: str  # "daily" | "monthly"
    key: str  # e.g. 2025-06-01 or 2025-06
    limit_usd: float
    spent_usd: float

    @property
    def fraction(self) -> float:
        return self.spent_usd / self.limit_usd if self.limit_usd > 0 else 1.0


class Ledger:
    """Records calls and answers "how much was spent since ...", from the database."""

    def __init__(
        self, db: Database, metrics: Metrics, prices: Mapping[str, tuple[float, float]]
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.prices = dict(prices)

    def record(
        self, request: InvestigationRequest, workflow: str, model: str, usage: TokenUsage
    ) -> Usage:
        cost = call_cost(model, usage, self.prices)
        with self.db.session() as session:
            session.add(
                LLMUsage(
                    workflow=workflow,
                    incident_id=request.incident_id,
                    question_id=request.question_id,
                    model=model,
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cache_creation_tokens=usage.cache_creation_tokens,
                    cache_read_tokens=usage.cache_read_tokens,
                    cost_usd=cost,
                )
            )
        tokens = self.metrics.llm_tokens
        tokens.labels(model, "input").inc(usage.input_tokens)
        tokens.labels(model, "output").inc(usage.output_tokens)
        tokens.labels(model, "cache_write").inc(usage.cache_creation_tokens)
        tokens.labels(model, "cache_read").inc(usage.cache_read_tokens)
        return usage_of(usage, cost)

    def spent_since(self, since: datetime) -> float:
        with self.db.session() as session:
            total = session.exec(
                select(func.coalesce(func.sum(LLMUsage.cost_usd), 0.0)).where(
                    col(LLMUsage.at) >= since
                )
            ).one()
        return float(total)


def budgets(
    ledger: Ledger, now: datetime, daily: float | None, monthly: float | None
) -> list[Budget]:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    found: list[Budget] = []
    if daily is not None:
        found.append(Budget("daily", day.date().isoformat(), daily, ledger.spent_since(day)))
    if monthly is not None:
        spent = ledger.spent_since(month)
        found.append(Budget("monthly", month.strftime("%Y-%m"), monthly, spent))
    return found


def exhausted(found: list[Budget]) -> Budget | None:
    return next((b for b in found if b.fraction >= 1.0), None)


def new_warnings(found: list[Budget], cache: Cache) -> list[str]:
    """Warnings for thresholds crossed and not yet announced in this period."""
    warnings: list[str] = []
    for budget in found:
        crossed = [t for t in THRESHOLDS if budget.fraction >= t]
        if not crossed:
            continue
        top = crossed[-1]
        key = f"agent:budget-warning:{budget.period}:{budget.key}:{int(top * 100)}"
        if not cache.add(key, b"1", ttl=timedelta(days=32).total_seconds()):
            continue
        then = (
            "the pattern engine answers until it resets" if top >= 1.0 else "Claude keeps answering"
        )
        warnings.append(
            f":warning: The {budget.period} AI budget is {budget.fraction:.0%} spent "
            f"(${budget.spent_usd:.2f} of ${budget.limit_usd:.2f}); {then}."
        )
    return warnings
