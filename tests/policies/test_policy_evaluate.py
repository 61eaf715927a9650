"""evaluate() against small hand-written policies (without the shipped defaults)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
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
    evaluate,
    load_policy,
)

ActionFactory = Callable[..., ProposedAction]
PolicyWriter = Callable[..., Path]

RULES = """
mode: autonomous
defaults: {approvers: [S0ONCALL], approval_expiry: 30m}
rules:
  - name: restart-shop
    match: {kinds: [restart_deployment], namespaces: ["shop-*", "!shop-payments"]}
    verdict: SAFE
  - name: restart-anywhere
    match: {kinds: [restart_deployment]}
    verdict: RISKY
    approvers: [U0ALICE, U0BOB]
    approvals_required: 2
    approval_expiry: 1h
  - name: small-deletes
    match: {kinds: [delete_pod], max_pods: 1, max_share: 0.25, max_namespaces: 1}
    verdict: SAFE
  - name: sure-scales
    match: {kinds: [scale_deployment], min_confidence: 0.9, max_replicas: 10}
    verdict: SAFE
  - name: frontend-hooks
    match:
      kinds: [http_hook]
      target_labels: {tier: frontend, canary: "!true"}
      hooks: [clear-cache]
    verdict: SAFE
  - name: switched-off
    enabled: false
    match: {kinds: [cordon_node]}
    verdict: SAFE
"""


@pytest.fixture
def policy(write_policy: PolicyWriter) -> Policy:
    return load_policy([write_policy(RULES)], include_defaults=False)


def test_unmatched_action_is_forbidden_by_default(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    decision = evaluate(
        make_action("rollback_deployment", "deployment/shop-a/web"), context, policy
    )
    assert decision.verdict is Verdict.FORBIDDEN
    assert decision.rule == DEFAULT_DENY_RULE
    assert decision.disposition is Disposition.REFUSE
    assert not decision.execute_now


def test_first_matching_rule_wins(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    decision = evaluate(make_action("restart_deployment", "deployment/shop-a/web"), context, policy)
    assert (decision.rule, decision.verdict) == ("restart-shop", Verdict.SAFE)
    assert decision.execute_now


def test_namespace_negation_excludes_a_namespace_the_glob_would_admit(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action("restart_deployment", "deployment/shop-payments/web")
    decision = evaluate(action, context, policy)
    assert (decision.rule, decision.verdict) == ("restart-anywhere", Verdict.RISKY)
    assert decision.approvers == ("U0ALICE", "U0BOB")
    assert decision.approvals_required == 2
    assert decision.approval_expiry == timedelta(hours=1)


def test_disabled_rule_is_skipped(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    decision = evaluate(make_action("cordon_node", "node/worker-1", nodes=1), context, policy)
    assert decision.rule == DEFAULT_DENY_RULE


@pytest.mark.parametrize(
    ("pods", "share", "namespaces", "verdict"),
    [
        (1, 0.2, 1, Verdict.SAFE),
        (2, 0.2, 1, Verdict.FORBIDDEN),
        (1, 0.5, 1, Verdict.FORBIDDEN),
        (1, 0.2, 2, Verdict.FORBIDDEN),
    ],
)
def test_blast_radius_bounds_decide_whether_a_rule_matches(
    policy: Policy,
    make_action: ActionFactory,
    context: EvaluationContext,
    pods: int,
    share: float,
    namespaces: int,
    verdict: Verdict,
) -> None:
    action = make_action(
        "delete_pod", "pod/shop-a/web-1", pods=pods, share=share, namespaces=namespaces
    )
    assert evaluate(action, context, policy).verdict is verdict


def test_rule_with_min_confidence_is_skipped_for_an_uncertain_finding(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    def scale(confidence: float) -> ProposedAction:
        return make_action(
            "scale_deployment",
            "deployment/shop-a/web",
            params={"replicas": 4},
            confidence=confidence,
        )

    assert evaluate(scale(0.95), context, policy).rule == "sure-scales"
    assert evaluate(scale(0.85), context, policy).rule == DEFAULT_DENY_RULE


def test_replica_bound_applies_to_the_requested_replica_count(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action("scale_deployment", "deployment/shop-a/web", params={"replicas": 11})
    assert evaluate(action, context, policy).rule == DEFAULT_DENY_RULE


def test_low_confidence_raises_safe_to_risky(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action("restart_deployment", "deployment/shop-a/web", confidence=0.6)
    decision = evaluate(action, context, policy)
    assert (decision.rule, decision.verdict) == ("restart-shop", Verdict.RISKY)
    assert decision.disposition is Disposition.REQUEST_APPROVAL
    assert decision.approvers == ("S0ONCALL",)
    assert decision.approval_expiry == timedelta(minutes=30)
    assert "confidence 0.60 is below the floor 0.80" in decision.reason


def test_low_confidence_does_not_soften_a_forbidden_verdict(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action("rollback_deployment", "deployment/shop-a/web", confidence=0.1)
    decision = evaluate(action, context, policy)
    assert decision.verdict is Verdict.FORBIDDEN
    assert decision.adjustments == ()


def test_label_selector_needs_known_labels_and_honours_not_equal(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    def hook(labels: dict[str, str] | None) -> ProposedAction:
        return make_action(
            "http_hook", "deployment/shop-a/web", params={"hook": "clear-cache"}, labels=labels
        )

    assert evaluate(hook({"tier": "frontend"}), context, policy).rule == "frontend-hooks"
    assert evaluate(hook(None), context, policy).rule == DEFAULT_DENY_RULE
    canary = {"tier": "frontend", "canary": "true"}
    assert evaluate(hook(canary), context, policy).rule == DEFAULT_DENY_RULE


def test_labels_read_from_the_cluster_refine_the_proposed_target_labels(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action(
        "http_hook", "deployment/shop-a/web", params={"hook": "clear-cache"}, labels={"tier": "x"}
    )
    fresh = context.model_copy(update={"target_labels": {"tier": "frontend"}})
    assert evaluate(action, fresh, policy).rule == "frontend-hooks"


def test_hook_names_restrict_which_hooks_a_rule_allows(
    policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    action = make_action(
        "http_hook",
        "deployment/shop-a/web",
        params={"hook": "flush-cdn"},
        labels={"tier": "frontend"},
    )
    assert evaluate(action, context, policy).rule == DEFAULT_DENY_RULE


def test_protected_namespace_beats_every_rule(
    write_policy: PolicyWriter, make_action: ActionFactory, context: EvaluationContext
) -> None:
    anything_goes = "defaults: {approvers: [S0ONCALL]}\nrules: [{name: all, verdict: SAFE}]\n"
    policy = load_policy([write_policy(anything_goes)], include_defaults=False)
    decision = evaluate(make_action("delete_pod", "pod/kube-system/coredns-1"), context, policy)
    assert (decision.verdict, decision.rule) == (Verdict.FORBIDDEN, "protected-namespace")


MODES = """
mode: supervised
mode_overrides:
  - {namespaces: ["lab-*"], mode: autonomous}
  - {namespaces: ["new-*"], mode: shadow}
defaults: {approvers: [S0ONCALL]}
rules:
  - {name: restarts, match: {kinds: [restart_deployment]}, verdict: SAFE}
  - {name: rollbacks, match: {kinds: [rollback_deployment]}, verdict: RISKY}
"""


@pytest.fixture
def mode_policy(write_policy: PolicyWriter) -> Policy:
    return load_policy([write_policy(MODES)], include_defaults=False)


def test_shadow_mode_never_executes_safe_actions(
    mode_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    decision = evaluate(
        make_action("restart_deployment", "deployment/new-a/web"), context, mode_policy
    )
    assert (decision.verdict, decision.mode) == (Verdict.SAFE, Mode.SHADOW)
    assert decision.disposition is Disposition.LOG_ONLY
    assert not decision.execute_now


def test_supervised_mode_asks_approval_even_for_safe_actions(
    mode_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    decision = evaluate(
        make_action("restart_deployment", "deployment/app/web"), context, mode_policy
    )
    assert (decision.verdict, decision.mode) == (Verdict.SAFE, Mode.SUPERVISED)
    assert decision.needs_approval
    assert (decision.approvers, decision.approvals_required) == (("S0ONCALL",), 1)


def test_per_namespace_mode_override_lets_safe_actions_run(
    mode_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    decision = evaluate(
        make_action("restart_deployment", "deployment/lab-1/web"), context, mode_policy
    )
    assert decision.mode is Mode.AUTONOMOUS
    assert decision.execute_now
    assert decision.approvals_required == 0


def test_risky_actions_ask_approval_even_in_autonomous_mode(
    mode_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    decision = evaluate(
        make_action("rollback_deployment", "deployment/lab-1/web"), context, mode_policy
    )
    assert decision.disposition is Disposition.REQUEST_APPROVAL


def test_cluster_scoped_targets_use_the_global_mode(
    mode_policy: Policy, make_action: ActionFactory, context: EvaluationContext
) -> None:
    decision = evaluate(make_action("cordon_node", "node/lab-1", nodes=1), context, mode_policy)
    assert decision.mode is Mode.SUPERVISED


def test_approval_nobody_may_give_makes_the_action_forbidden(
    write_policy: PolicyWriter, make_action: ActionFactory, context: EvaluationContext
) -> None:
    policy = load_policy(
        [write_policy("rules: [{name: r, match: {kinds: [rollback_deployment]}, verdict: RISKY}]")],
        include_defaults=False,
    )
    decision = evaluate(make_action("rollback_deployment", "deployment/a/web"), context, policy)
    assert decision.verdict is Verdict.FORBIDDEN
    assert "nobody may approve" in decision.reason
