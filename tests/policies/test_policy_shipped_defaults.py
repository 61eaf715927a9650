"""The shipped policies/default.yaml behaves as an SRE would expect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from policies import (
    DEFAULT_DENY_RULE,
    Disposition,
    EvaluationContext,
    Mode,
    Policy,
    ProposedAction,
    Verdict,
    check_policy_files,
    evaluate,
    load_policy,
)

SITE_APPROVERS = "defaults:\n  approvers: [S0ONCALL]\n"
ActionFactory = Callable[..., ProposedAction]
PolicyWriter = Callable[..., Path]


def test_shipped_policy_checks_clean_once_approvers_are_set(write_policy: PolicyWriter) -> None:
    assert check_policy_files([write_policy(SITE_APPROVERS)]) == []


def test_shipped_policy_alone_asks_for_approvers_to_be_set() -> None:
    problems = check_policy_files()
    assert len(problems) == 1
    assert problems[0].file == "policies/default.yaml"
    assert "defaults.approvers is empty" in problems[0].message


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("restart_deployment", "deployment/kube-system/coredns"),
        ("delete_pod", "pod/kube-system/kube-proxy-abcde"),
        ("scale_deployment", "deployment/kube-public/x"),
    ],
)
def test_kube_system_is_always_forbidden(
    write_policy: PolicyWriter,
    make_action: ActionFactory,
    context: EvaluationContext,
    kind: str,
    target: str,
) -> None:
    permissive_site = (
        SITE_APPROVERS + "protected_namespaces: []\nrules: [{name: all, verdict: SAFE}]\n"
    )
    policy = load_policy([write_policy(permissive_site)])
    params = {"replicas": 2} if kind == "scale_deployment" else None
    decision = evaluate(make_action(kind, target, params=params), context, policy)
    assert decision.verdict is Verdict.FORBIDDEN
    assert decision.disposition is Disposition.REFUSE


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("restart_deployment", "deployment/staging/checkout"),
        ("delete_pod", "pod/dev/checkout-7d4b9c8f6-x2x9z"),
        ("restart_deployment", "deployment/payments-staging/api"),
    ],
)
def test_restart_and_pod_deletion_outside_prod_are_safe_and_run_autonomously(
    site_policy: Policy,
    make_action: ActionFactory,
    context: EvaluationContext,
    kind: str,
    target: str,
) -> None:
    decision = evaluate(make_action(kind, target), context, site_policy)
    assert (decision.verdict, decision.mode) == (Verdict.SAFE, Mode.AUTONOMOUS)
    assert decision.execute_now


def test_restart_in_prod_is_risky_and_supervised(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    decision = evaluate(
        make_action("restart_deployment", "deployment/prod/checkout"), context, site_policy
    )
    assert (decision.rule, decision.verdict, decision.mode) == (
        "restart-prod",
        Verdict.RISKY,
        Mode.SUPERVISED,
    )
    assert decision.approvers == ("S0ONCALL",)


def test_scaling_within_bounds_is_safe_in_staging_and_risky_in_prod(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    def scale(target: str, replicas: int) -> Verdict:
        action = make_action("scale_deployment", target, params={"replicas": replicas})
        return evaluate(action, context, site_policy).verdict

    assert scale("deployment/staging/checkout", 6) is Verdict.SAFE
    assert scale("deployment/staging/checkout", 0) is Verdict.RISKY
    assert scale("deployment/staging/checkout", 40) is Verdict.RISKY
    assert scale("deployment/prod-eu/checkout", 6) is Verdict.RISKY
    assert scale("deployment/prod-eu/checkout", 0) is Verdict.FORBIDDEN


@pytest.mark.parametrize("namespace", ["staging", "prod"])
def test_rollback_is_risky(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext, namespace: str
) -> None:
    action = make_action("rollback_deployment", f"deployment/{namespace}/checkout")
    assert evaluate(action, context, site_policy).verdict is Verdict.RISKY


def test_two_approvers_required_for_prod_cordon(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action("cordon_node", "node/ip-10-0-1-7", nodes=1, labels={"environment": "prod"})
    decision = evaluate(action, context, site_policy)
    assert (decision.rule, decision.verdict) == ("cordon-node", Verdict.RISKY)
    assert decision.approvals_required == 2


def test_cordon_of_a_node_labelled_staging_needs_one_approver(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action(
        "cordon_node", "node/ip-10-0-9-9", nodes=1, labels={"environment": "staging"}
    )
    decision = evaluate(action, context, site_policy)
    assert (decision.rule, decision.approvals_required) == ("cordon-nonprod-node", 1)


def test_action_in_a_namespace_of_unknown_environment_is_forbidden(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    decision = evaluate(
        make_action("restart_deployment", "deployment/payments/api"), context, site_policy
    )
    assert decision.rule == DEFAULT_DENY_RULE


def test_restart_touching_several_namespaces_is_not_routine(
    site_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action("restart_deployment", "deployment/staging/checkout", namespaces=3)
    assert evaluate(action, context, site_policy).verdict is Verdict.FORBIDDEN


def test_site_rule_with_a_shipped_name_replaces_it_in_place(
    write_policy: PolicyWriter, make_action: ActionFactory, context: EvaluationContext
) -> None:
    site = write_policy(
        SITE_APPROVERS
        + """
rules:
  - name: restart-prod
    match: {kinds: [restart_deployment], namespaces: [prod]}
    verdict: SAFE
"""
    )
    policy = load_policy([site])
    names = [rule.name for rule in policy.rules]
    assert names.index("restart-prod") > names.index("restart-nonprod")
    assert str(policy.source_of("rules/restart-prod")).startswith(str(site))
    decision = evaluate(
        make_action("restart_deployment", "deployment/prod/checkout"), context, policy
    )
    assert (decision.rule, decision.verdict) == ("restart-prod", Verdict.SAFE)


def test_site_rules_are_tried_before_shipped_rules(
    write_policy: PolicyWriter, make_action: ActionFactory, context: EvaluationContext
) -> None:
    site = (
        SITE_APPROVERS
        + """
rules:
  - name: no-staging-restarts-today
    match: {kinds: [restart_deployment], namespaces: [staging]}
    verdict: FORBIDDEN
"""
    )
    policy = load_policy([write_policy(site)])
    decision = evaluate(
        make_action("restart_deployment", "deployment/staging/web"), context, policy
    )
    assert decision.rule == "no-staging-restarts-today"


def test_site_file_can_switch_a_shipped_rule_off(
    write_policy: PolicyWriter, make_action: ActionFactory, context: EvaluationContext
) -> None:
    site = (
        SITE_APPROVERS
        + """
rules:
  - {name: restart-nonprod, enabled: false}
"""
    )
    policy = load_policy([write_policy(site)])
    decision = evaluate(
        make_action("restart_deployment", "deployment/staging/web"), context, policy
    )
    assert decision.rule == DEFAULT_DENY_RULE


def test_site_file_settings_override_the_shipped_ones(write_policy: PolicyWriter) -> None:
    site = """
mode: shadow
confidence_floor: 0.9
defaults: {approval_expiry: 1h}
protected_namespaces: [cert-manager]
"""
    policy = load_policy([write_policy(site)])
    assert (policy.mode, policy.confidence_floor) == (Mode.SHADOW, 0.9)
    assert policy.defaults.approval_expiry.total_seconds() == 3600
    assert policy.defaults.approvals_required == 1
    assert {"kube-system", "cert-manager"} <= set(policy.protected_namespaces)
