"""Change freezes: weekly and date windows in their timezone, declared freezes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policies import (
    EvaluationContext,
    Policy,
    ProposedAction,
    Verdict,
    evaluate,
    freezes_in_effect,
    load_policy,
)

ActionFactory = Callable[..., ProposedAction]
PolicyWriter = Callable[..., Path]

FREEZES = """
mode: autonomous
defaults: {approvers: [S0ONCALL]}
freezes:
  - name: weekend
    description: No unattended changes over the weekend.
    timezone: Europe/Berlin
    weekly: [{start: "fri 16:00", end: "mon 08:00"}]
    match: {namespaces: ["prod-*"]}
  - name: year-end
    timezone: Europe/Berlin
    dates: [{start: 2025-12-20, end: 2026-01-02}]
    verdict: FORBIDDEN
  - name: nightly-batch
    weekly: [{days: [mon, tue, wed, thu, fri], start: 22:00, end: "06:00"}]
    match: {kinds: [scale_deployment]}
    approvers: [S0RELEASE]
    approvals_required: 2
rules:
  - {name: restarts, match: {kinds: [restart_deployment, scale_deployment]}, verdict: SAFE}
"""


def at(text: str) -> EvaluationContext:
    return EvaluationContext(now=datetime.fromisoformat(text))


@pytest.fixture
def freeze_policy(write_policy: PolicyWriter) -> Policy:
    return load_policy([write_policy(FREEZES)], include_defaults=False)


def test_change_freeze_makes_prod_restart_risky(
    freeze_policy: Policy, make_action: ActionFactory
) -> None:
    restart = make_action("restart_deployment", "deployment/prod-shop/web")
    saturday = at("2025-03-15T11:00:00+01:00")
    decision = evaluate(restart, saturday, freeze_policy)
    assert decision.verdict is Verdict.RISKY
    assert decision.needs_approval
    assert "Change freeze 'weekend' is in effect: SAFE raised to RISKY" in decision.reason
    assert freezes_in_effect(restart, saturday, freeze_policy) == ("weekend",)


def test_freeze_applies_only_to_the_actions_it_matches(
    freeze_policy: Policy, make_action: ActionFactory
) -> None:
    restart = make_action("restart_deployment", "deployment/staging/web")
    assert evaluate(restart, at("2025-03-15T11:00:00+01:00"), freeze_policy).execute_now


@pytest.mark.parametrize(
    ("moment", "frozen"),
    [
        ("2025-03-14T15:59:00+01:00", False),  # Friday, just before 16:00 in Berlin
        ("2025-03-14T15:00:00+00:00", True),  # Friday 16:00 in Berlin
        ("2025-03-17T07:59:00+01:00", True),  # Monday, just before 08:00
        ("2025-03-17T08:00:00+01:00", False),
    ],
)
def test_weekly_freeze_follows_its_timezone_across_the_weekend(
    freeze_policy: Policy, make_action: ActionFactory, moment: str, frozen: bool
) -> None:
    restart = make_action("restart_deployment", "deployment/prod-shop/web")
    assert ("weekend" in freezes_in_effect(restart, at(moment), freeze_policy)) is frozen


def test_date_freeze_covers_its_whole_last_day_and_can_forbid(
    freeze_policy: Policy, make_action: ActionFactory
) -> None:
    restart = make_action("restart_deployment", "deployment/dev/web")
    assert evaluate(restart, at("2026-01-02T23:30:00+01:00"), freeze_policy).verdict is (
        Verdict.FORBIDDEN
    )
    assert evaluate(restart, at("2026-01-03T00:00:00+01:00"), freeze_policy).execute_now


def test_overnight_freeze_names_its_own_approvers(
    freeze_policy: Policy, make_action: ActionFactory
) -> None:
    scale = make_action("scale_deployment", "deployment/dev/web", params={"replicas": 3})
    wednesday_night = at("2025-03-13T02:00:00+00:00")  # Thursday 02:00, window began Wed 22:00
    decision = evaluate(scale, wednesday_night, freeze_policy)
    assert decision.verdict is Verdict.RISKY
    assert (decision.approvers, decision.approvals_required) == (("S0RELEASE",), 2)


def test_declared_freeze_raises_safe_to_risky(
    freeze_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    restart = make_action("restart_deployment", "deployment/dev/web")
    frozen = context.model_copy(update={"declared_freeze": "release 4.2 in progress"})
    decision = evaluate(restart, frozen, freeze_policy)
    assert decision.verdict is Verdict.RISKY
    assert "release 4.2 in progress" in decision.reason
    assert freezes_in_effect(restart, frozen, freeze_policy) == ("declared",)


def test_evaluate_is_pure_and_repeatable(freeze_policy: Policy, make_action: ActionFactory) -> None:
    action = make_action("restart_deployment", "deployment/prod-shop/web")
    moment = EvaluationContext(now=datetime(2025, 3, 15, 10, tzinfo=UTC))
    assert evaluate(action, moment, freeze_policy) == evaluate(action, moment, freeze_policy)
