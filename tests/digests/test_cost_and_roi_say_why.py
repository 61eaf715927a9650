"""Cost and ROI reports say why they show nothing instead of drawing empty charts; money
is written with its sign before the dollar."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.digests.cost import CostStats
from bot.digests.cost import blocks_for as cost_blocks
from bot.digests.output import money
from bot.digests.roi import RoiInputs, compute_roi
from bot.digests.roi import blocks_for as roi_blocks

AT = datetime(2026, 12, 1, tzinfo=UTC)
INPUTS = RoiInputs(
    baseline_mttr_minutes=60,
    hourly_rate_usd=100,
    engineers_per_incident=2,
    outage_cost_per_hour_usd=1000,
    infrastructure_monthly_usd=20,
)


def test_money_puts_the_sign_before_the_dollar() -> None:
    assert money(-19.4) == "-$19.40"
    assert money(19.4) == "$19.40"
    assert money(-0.001) == "$0.00"
    assert money(-12_345) == "-$12,345"


def test_a_cost_report_without_model_calls_says_the_pattern_engine_answered() -> None:
    stats = CostStats(monthly=False, start=AT, end=AT)
    shown = json.dumps([b.to_dict() for b in cost_blocks(stats, 5, 100, "UTC", False).blocks])
    assert "no Anthropic API key is configured, so the pattern engine answered" in shown
    with_key = json.dumps([b.to_dict() for b in cost_blocks(stats, 5, 100, "UTC", True).blocks])
    assert "nothing needed Claude" in with_key


def test_an_roi_report_with_nothing_resolved_says_so_and_gives_no_return_ratio() -> None:
    roi = compute_roi([], 0.0, 0.63, INPUTS)
    output = roi_blocks(roi, INPUTS, AT, AT, "UTC")
    shown = json.dumps([b.to_dict() for b in output.blocks], ensure_ascii=False)
    assert "No incident was resolved in this period" in shown
    assert "-1.0x" not in shown
    assert "$-" not in shown
    assert "0 incidents x" in shown
