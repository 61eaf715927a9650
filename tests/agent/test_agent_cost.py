"""Prices, the usage ledger on SQLite and PostgreSQL, and the budget thresholds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cache import MemoryCache
from bot.investigation.agent.cost import Ledger, budgets, call_cost, exhausted, new_warnings
from bot.investigation.agent.llm import TokenUsage
from bot.investigation.agent.request import InvestigationRequest, Workflow
from bot.metrics import Metrics
from bot.settings import parse_prices
from bot.store.db import Database

PRICES = parse_prices("claude-haiku-4-5=1/5,claude-sonnet-4-5=3/15")
REQUEST = InvestigationRequest(
    workflow=Workflow.ASK, question="q", now=datetime.now(UTC), question_id="q-9"
)


def test_a_call_is_priced_by_input_output_and_cache_tokens() -> None:
    usage = TokenUsage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_creation_tokens=200_000,
        cache_read_tokens=2_000_000,
    )
    # 3 + 1.5 + 0.2 * 3 * 1.25 + 2 * 3 * 0.1
    assert call_cost("claude-sonnet-4-5", usage, PRICES) == pytest.approx(5.85)
    assert call_cost("claude-sonnet-4-5-20250929", usage, PRICES) == pytest.approx(5.85)
    assert call_cost("some-unknown-model", usage, PRICES) == 0.0


def test_the_ledger_records_each_call_and_sums_the_spend(db: Database) -> None:
    metrics = Metrics()
    ledger = Ledger(db, metrics, PRICES)
    since = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(3):
        ledger.record(REQUEST, "ask", "claude-haiku-4-5", TokenUsage(100_000, 20_000))
    assert ledger.spent_since(since) == pytest.approx(3 * 0.2)
    sample = metrics.registry.get_sample_value(
        "opsbot_llm_tokens_total", {"model": "claude-haiku-4-5", "kind": "output"}
    )
    assert sample == 60_000


def test_each_budget_threshold_is_announced_once_and_the_last_one_stops_claude(
    db: Database,
) -> None:
    ledger = Ledger(db, Metrics(), PRICES)
    cache = MemoryCache()
    now = datetime.now(UTC)
    seen: list[list[str]] = []
    for _ in range(6):  # $0.20 a call against a $1.00 daily budget
        found = budgets(ledger, now, daily=1.0, monthly=None)
        seen.append(new_warnings(found, cache))
        ledger.record(REQUEST, "ask", "claude-haiku-4-5", TokenUsage(100_000, 20_000))
    announced = [w for batch in seen for w in batch]
    assert [w.split(" is ")[1].split(" ")[0] for w in announced] == ["60%", "80%", "100%"]
    assert exhausted(budgets(ledger, now, daily=1.0, monthly=None)) is not None
    assert exhausted(budgets(ledger, now, daily=None, monthly=100.0)) is None
