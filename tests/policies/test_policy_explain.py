from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from policies import EvaluationContext, Policy, ProposedAction, explain, load_policy

ActionFactory = Callable[..., ProposedAction]
PolicyWriter = Callable[..., Path]


def test_explain_names_the_matching_rule_and_where_it_is_defined(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action("scale_deployment", "deployment/prod-eu/checkout", params={"replicas": 6})
    text = explain(action, context, site_policy)
    assert "scale-prod (policies/default.yaml:71): MATCHED → RISKY" in text
    assert "Verdict: RISKY (rule scale-prod)" in text
    assert "Mode: supervised (global default)" in text
    assert "Outcome: ask for 1 approval(s) from S0ONCALL within 15m" in text
    assert "later rule(s) not considered" in text


def test_explain_says_why_each_earlier_rule_did_not_match(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action("scale_deployment", "deployment/prod-eu/checkout", params={"replicas": 6})
    text = explain(action, context, site_policy)
    assert (
        "  2. scale-nonprod (policies/default.yaml:38): no match\n"
        "     - namespace 'prod-eu' matches none of "
        "dev, dev-*, *-dev, staging, staging-*, *-staging"
    ) in text
    assert "kind scale_deployment is not one of restart_deployment, delete_pod" in text


def test_explain_lists_confidence_and_freeze_adjustments(
    write_policy: PolicyWriter, make_action: ActionFactory
) -> None:
    site = """
    defaults: {approvers: [S0ONCALL]}
    freezes:
      - name: weekend
        timezone: Europe/Berlin
        weekly: [{start: "fri 16:00", end: "mon 08:00"}]
        verdict: FORBIDDEN
    """
    policy = load_policy([write_policy(site)])
    action = make_action("restart_deployment", "deployment/staging/web", confidence=0.5)
    saturday = EvaluationContext(now=datetime.fromisoformat("2025-03-15T12:00:00+01:00"))
    text = explain(action, saturday, policy)
    assert "  weekend: in effect → at least FORBIDDEN" in text
    assert (
        "  - The finding's confidence 0.50 is below the floor 0.80: SAFE raised to RISKY." in text
    )
    assert "  - Change freeze 'weekend' is in effect: RISKY raised to FORBIDDEN." in text
    assert text.endswith("Outcome: refuse and escalate to a human")


def test_explain_for_a_protected_namespace_skips_the_rules(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    text = explain(make_action("delete_pod", "pod/kube-system/coredns-1"), context, site_policy)
    assert "kube-system matches 'kube-system', so no rule is consulted" in text
    assert "Rules (first match wins)" not in text
    assert "Verdict: FORBIDDEN (rule protected-namespace)" in text


def test_explain_in_shadow_mode_says_what_would_have_happened(
    write_policy: PolicyWriter, make_action: ActionFactory, context: EvaluationContext
) -> None:
    policy = load_policy([write_policy("mode: shadow\ndefaults: {approvers: [S0ONCALL]}\n")])
    text = explain(make_action("delete_pod", "pod/prod/web-1"), context, policy)
    assert "Mode: shadow (global default)" in text
    assert text.endswith(
        "Outcome: log only (shadow mode); otherwise it would ask for 1 approval(s) "
        "from S0ONCALL within 15m"
    )


def test_explain_reports_default_deny(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    text = explain(make_action("delete_pod", "pod/payments/web-1"), context, site_policy)
    assert "No rule matched: default deny (FORBIDDEN)." in text
    assert "Verdict: FORBIDDEN (rule default-deny)" in text
