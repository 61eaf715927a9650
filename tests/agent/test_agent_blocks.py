"""The answer's Block Kit stays within Slack's limits and says which engine answered."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.investigation.agent.finding import Engine, Finding, Investigation, MetricChange, Usage
from bot.investigation.agent.proposals import make_action
from bot.investigation.blocks import finding_blocks, finding_text
from bot.slack.blocks import as_dicts
from policies import ActionKind
from tools.base import Evidence


def big_investigation() -> Investigation:
    evidence = [
        Evidence(
            tool="log_search",
            query="{" + "x" * 5000 + "}",
            link="http://k/app#/d",
            excerpt="e" * 900,
        )
        for _ in range(20)
    ]
    action = make_action(
        ActionKind.ROLLBACK_DEPLOYMENT,
        name="checkout",
        namespace="prod",
        reason="r" * 400,
        confidence=0.8,
        incident_id=3,
    )
    finding = Finding(
        summary="<b>s</b> & " * 400,
        root_cause="c" * 4000,
        confidence=0.8,
        evidence=evidence,
        proposals=[action],
        recommendations=["raise it"] * 30,
        changes=[
            MetricChange(
                query="q",
                series="error_ratio",
                at=datetime.now(UTC),
                before=0.01,
                after=0.2,
                score=40,
            )
        ],
        notes=["n" * 1000] * 6,
    )
    usage = Usage(
        calls=3, input_tokens=12000, output_tokens=900, cache_read_tokens=30000, cost_usd=0.05
    )
    return Investigation(
        finding=finding, engine=Engine.CLAUDE, model="claude-sonnet-4-5", usage=usage
    )


def test_a_large_finding_fits_slack_limits_and_names_engine_tokens_and_cost() -> None:
    blocks = as_dicts(finding_blocks(big_investigation(), "Answer"))
    assert len(blocks) <= 50
    for block in blocks:
        texts = [block.get("text", {}), *list(block.get("elements", []))]
        assert all(len(t.get("text", "")) <= 3000 for t in texts if isinstance(t, dict))
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "&lt;b&gt;" in shown
    assert "<b>" not in shown
    assert (
        "Claude (claude-sonnet-4-5) · 3 model calls, 12,000 in / 900 out / "
        "30,000 cached tokens, $0.0500" in shown
    )
    assert shown.count("e" * 100) == 1  # twenty identical tool calls, one observation
    assert "x" * 100 not in shown  # raw queries stay behind the button
    assert len(finding_text(big_investigation())) <= 3000
