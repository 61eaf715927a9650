"""The capacity actions in the policy vocabulary: set_resources (undone by itself with the
previous values), delete_job and delete_pvc, how the shipped policy classifies them, and how
the approval card shows a resources change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.remediation.blocks import ActionCard, approval_card, as_text
from policies import (
    BlastRadius,
    EvaluationContext,
    Mode,
    Policy,
    ProposedAction,
    SetResourcesParams,
    Verdict,
    evaluate,
    explain,
    inverse_action,
    load_policy,
    parse_target,
)
from policies.quantities import cpu_text, memory_text, parse_cpu, parse_memory

NOW = EvaluationContext(now=datetime(2025, 3, 12, 10, 0, tzinfo=UTC))
RESIZE = {
    "container": "app",
    "cpu_request": "50m",
    "memory_request": "192Mi",
    "memory_limit": "288Mi",
    "previous_cpu_request": "500m",
    "previous_cpu_limit": "1",
    "previous_memory_request": "512Mi",
    "previous_memory_limit": "1Gi",
}


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    site = Path(tmp_path_factory.mktemp("policy")) / "site.yaml"
    site.write_text("defaults:\n  approvers: [S0ONCALL]\n")
    return load_policy([site])


def action(kind: str, target: str, params: dict[str, Any] | None = None) -> ProposedAction:
    return ProposedAction.model_validate(
        {
            "id": "cap-1",
            "kind": kind,
            "target": parse_target(target),
            "params": params,
            "reason": "capacity review",
            "proposer": "agent",
            "confidence": 0.9,
            "blast_radius": BlastRadius(pods_affected=2, workload_share=1.0),
        }
    )


def test_quantities_read_and_print_as_kubectl_does() -> None:
    assert parse_cpu("250m") == 0.25
    assert parse_cpu("1.5") == 1.5
    assert parse_memory("192Mi") == 192 * 2**20
    assert parse_memory("1G") == 10**9
    assert (cpu_text(0.05), cpu_text(2.0), cpu_text(1.5)) == ("50m", "2", "1500m")
    assert (memory_text(192 * 2**20), memory_text(2**30), memory_text(2**20 + 1)) == (
        "192Mi",
        "1Gi",
        "2Mi",
    )


def test_set_resources_is_undone_by_setting_the_previous_values_back() -> None:
    resize = action("set_resources", "deployment/prod/payments", RESIZE)
    undo = inverse_action(resize, action_id="cap-1-undo")
    assert undo is not None
    assert undo.kind == "set_resources"
    assert undo.params == SetResourcesParams(
        container="app",
        cpu_request="500m",
        cpu_limit="1",
        memory_request="512Mi",
        memory_limit="1Gi",
        previous_cpu_request="50m",
        previous_memory_request="192Mi",
        previous_memory_limit="288Mi",
    )
    assert undo.params.changes()[1] == ("cpu_limit", None, "1")  # the removed limit returns


def test_set_resources_rejects_requests_above_limits_and_malformed_quantities() -> None:
    with pytest.raises(ValidationError, match="memory_request 1Gi is above memory_limit 512Mi"):
        SetResourcesParams(container="app", memory_request="1Gi", memory_limit="512Mi")
    with pytest.raises(ValidationError, match="cpu_request 2 is above cpu_limit 500m"):
        SetResourcesParams(container="app", cpu_request="2", cpu_limit="500m")
    with pytest.raises(ValidationError):
        SetResourcesParams(container="app", cpu_request="50 millicores")
    with pytest.raises(ValidationError, match="targets a deployment"):
        action("set_resources", "pod/prod/payments-abc", RESIZE)


@pytest.mark.parametrize("namespace", ["prod", "staging", "team-a"])
def test_set_resources_is_risky_everywhere_because_it_restarts_pods(
    policy: Policy, namespace: str
) -> None:
    decision = evaluate(action("set_resources", f"deployment/{namespace}/x", RESIZE), NOW, policy)
    assert (decision.verdict, decision.rule) == (Verdict.RISKY, "set-resources")
    assert decision.approvers == ("S0ONCALL",)
    kube_system = action("set_resources", "deployment/kube-system/coredns", RESIZE)
    assert evaluate(kube_system, NOW, policy).verdict is Verdict.FORBIDDEN


def test_failed_jobs_are_cleaned_up_freely_outside_prod_and_with_approval_in_prod(
    policy: Policy,
) -> None:
    staging = evaluate(action("delete_job", "job/staging/nightly-report-28"), NOW, policy)
    assert (staging.verdict, staging.mode) == (Verdict.SAFE, Mode.AUTONOMOUS)
    assert staging.execute_now
    prod = evaluate(action("delete_job", "jobs/prod/backfill-1"), NOW, policy)
    assert (prod.verdict, prod.rule) == (Verdict.RISKY, "delete-job-prod")


def test_volume_claims_are_never_deleted_in_prod_and_need_approval_elsewhere(
    policy: Policy,
) -> None:
    def verdict(target: str) -> tuple[Verdict, str]:
        decision = evaluate(action("delete_pvc", target), NOW, policy)
        return decision.verdict, decision.rule

    assert verdict("pvc/prod/old-data") == (Verdict.FORBIDDEN, "delete-volume-claim")
    assert verdict("pvc/prod-eu/old-data") == (Verdict.FORBIDDEN, "delete-volume-claim")
    assert verdict("pvc/team-a/old-data") == (Verdict.FORBIDDEN, "delete-volume-claim")
    assert verdict("pvc/staging/old-data") == (Verdict.RISKY, "delete-volume-claim-nonprod")
    told = explain(action("delete_pvc", "pvc/prod/old-data"), NOW, policy)
    assert "delete-volume-claim (policies/default.yaml:" in told
    assert "Verdict: FORBIDDEN (rule delete-volume-claim)" in told
    assert "its data would be lost" in told


def test_the_card_shows_the_container_change_and_the_saving() -> None:
    card = ActionCard(
        action_id="act-1",
        kind="set_resources",
        target="deployment/prod/payments",
        params={k: v for k, v in RESIZE.items() if v is not None},
        reason="over-provisioned",
        summary="prod/payments/app: cpu 500m→50m, memory 512Mi→192Mi, saves $23.02/month",
        evidence=(),
        confidence=0.9,
        blast={"pods_affected": 2, "replicas_affected": 2, "workload_share": 1.0},
        verdict="RISKY",
        rule="set-resources",
        rule_reason="",
        state="pending",
        proposer="agent",
        approvals_required=1,
        approvers=("S0ONCALL",),
    )
    text = as_text(approval_card(card))
    assert (
        "app: cpu 500m→50m, memory 512Mi→192Mi, cpu limit 1→unset, memory limit 1Gi→288Mi" in text
    )
    assert "saves $23.02/month" in text
