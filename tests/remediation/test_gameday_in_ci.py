"""The GameDay: scoring is what issue 19 asks for, and `opsbot gameday` plays a pack in the
closed-loop world through the whole loop with nobody watching."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.gameday import gameday_policy, handed_over, playable, ran_harmful
from bot.cli.gameday_score import PackResult, summary, table
from bot.remediation.proposals import forbidden_handover
from bot.store.actions import ActionRecord
from policies import EvaluationContext, ProposedAction, evaluate, load_policy
from sandbox.scenarios.catalog import SCENARIOS_DIR, load_scenario
from tests.remediation.conftest import proposal

KEYS = {
    "name",
    "detected",
    "mttd_s",
    "diagnosed_right",
    "action",
    "validation",
    "undone",
    "escalated",
    "healed",
    "harmful",
    "mttr_s",
}


def test_a_kept_fix_whose_alerts_resolve_heals_and_a_worse_one_is_harmful() -> None:
    healed = PackResult("a", True, 3.0, True, "rollback_deployment checkout", "recovered")
    healed.resolved, healed.mttr_s = True, 90.0
    worse = PackResult("b", True, 4.0, False, "scale_deployment x", "worse", undone=True)
    helped_a_human = PackResult(
        "c", True, 5.0, True, "cordon_node worker-2", "not_recovered", escalated=True
    )
    helped_a_human.escalated_right = True
    nothing = PackResult("d", True, 5.0)
    report = summary([healed, worse, helped_a_human, nothing])
    assert [p["healed"] for p in report["packs"]] == [True, False, True, False]
    assert (report["harmful"], report["fixes_undone"], report["auto_heal_rate"]) == (1, 0, 0.5)
    assert report["cleared_by_opsbot"] == 1  # the escalated one needed a human
    assert all(set(p) == KEYS for p in report["packs"])
    assert "auto-heal rate: 50% (2/4 packs)" in table([healed, worse, helped_a_human, nothing], "x")


def test_an_escalation_heals_only_when_it_names_the_human_step_the_pack_expects() -> None:
    step = load_scenario("cert-expired").expected.human_step
    assert step is not None
    assert step.named_in("restart not recovered. What a human must do: Renew the certificate")
    assert not step.named_in("restart_deployment on deployment/prod/inventory not recovered")
    vague = PackResult("v", True, 5.0, True, "restart_deployment x", "not_recovered")
    vague.escalated = True  # told the humans something, but not what to do
    assert summary([vague])["packs"][0]["healed"] is False
    vague.escalated_right = True
    assert summary([vague])["packs"][0]["healed"] is True


def test_an_incident_that_resolved_while_the_action_never_ran_was_not_healed_by_opsbot() -> None:
    waited = PackResult("w", True, 4.0, True, "rollback_deployment inventory")  # validation "-"
    waited.resolved, waited.mttr_s = True, 608.0
    assert summary([waited])["packs"][0]["healed"] is False
    waited.escalated_right = True  # but it told the humans the pack's step
    assert summary([waited])["packs"][0]["healed"] is True


def test_undoing_a_recovered_action_counts_as_a_fix_undone() -> None:
    undone = PackResult("a", True, 1.0, True, "rollback_deployment c", "recovered", undone=True)
    assert summary([undone])["fixes_undone"] == 1
    assert summary([undone])["packs"][0]["healed"] is False


def _record(kind: str, target: str, state: str) -> ActionRecord:
    return ActionRecord(
        id=f"{kind}-{state}",
        proposal_id="p",
        kind=kind,
        target=target,
        action={},
        state=state,
        verdict="allow",
        rule="r",
        disposition="approval",
        proposer="agent",
    )


def test_a_carried_out_action_the_pack_lists_as_harmful_makes_the_play_harmful() -> None:
    pack = load_scenario("cert-expired")  # lists rolling back checkout (the client) as harmful
    harmful = _record("rollback_deployment", "deployment/prod/checkout", "succeeded")
    proposed_only = _record("rollback_deployment", "deployment/prod/checkout", "denied")
    fix = _record("restart_deployment", "deployment/prod/inventory", "succeeded")
    assert ran_harmful([fix, proposed_only], pack) is None
    assert ran_harmful([fix, harmful], pack) == "rollback_deployment checkout"
    played = PackResult(
        "cert-expired", True, 3.0, True, "restart_deployment inventory", "recovered"
    )
    played.resolved, played.ran_harmful = True, "rollback_deployment checkout"
    assert summary([played])["harmful"] == 1
    assert summary([played])["packs"][0]["healed"] is False


def test_the_packs_own_action_forbidden_by_policy_heals_only_when_handed_to_a_human() -> None:
    pack = load_scenario("dns-failure")  # its fix is in kube-system, protected by policy
    refused = _record("rollback_deployment", "deployment/kube-system/coredns", "refused")
    refused.verdict = "FORBIDDEN"
    coredns = {"kind": "deployment", "namespace": "kube-system", "name": "coredns"}
    handed = forbidden_handover(proposal("rollback_deployment", coredns), "protected-namespace")
    assert handed_over(refused, pack, [handed])
    assert not handed_over(refused, pack, ["opsbot could not act"])
    other = _record("restart_deployment", "deployment/prod/inventory", "refused")
    other.verdict = "FORBIDDEN"
    assert not handed_over(other, pack, [handed]), "not the pack's action"
    allowed = _record("rollback_deployment", "deployment/kube-system/coredns", "refused")
    assert not handed_over(allowed, pack, [handed]), "refused for another reason"


def test_the_gameday_plays_any_folder_of_packs_and_skips_forecast_stories(tmp_path: Path) -> None:
    shipped = [p.name for p in playable(SCENARIOS_DIR, [])]
    assert "bad-image" in shipped
    assert "capacity" not in shipped
    copy = tmp_path / "packs"
    copy.mkdir()
    (copy / "mine").symlink_to(SCENARIOS_DIR / "bad-image", target_is_directory=True)
    assert [p.name for p in playable(copy, [])] == ["mine"]


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_opsbot_gameday_heals_the_bad_image_pack_and_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "gameday.json"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "gameday", "--only", "bad-image", "--json", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=1100,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "GameDay (supervised mode, closed-loop world)" in result.stdout
    report = json.loads(out.read_text())
    [pack] = report["packs"]
    assert pack["detected"] is True
    assert pack["action"] == "rollback_deployment checkout"
    assert pack["validation"] == "recovered"
    assert (pack["undone"], pack["healed"], pack["harmful"]) == (False, True, False)
    assert (report["harmful"], report["fixes_undone"]) == (0, 0)


def _rollback_prod(confidence: float) -> ProposedAction:
    return ProposedAction.model_validate(
        {
            "id": "p",
            "kind": "rollback_deployment",
            "target": {"kind": "deployment", "namespace": "prod", "name": "checkout"},
            "proposer": "agent",
            "confidence": confidence,
            "blast_radius": {"pods_affected": 2, "workload_share": 0.3},
        }
    )


def test_an_autonomous_gameday_lets_opsbot_act_alone_on_confident_findings_only(
    tmp_path: Path,
) -> None:
    now = EvaluationContext(now=datetime(2026, 12, 7, 12, tzinfo=UTC))
    alone = load_policy([gameday_policy(tmp_path, "autonomous")])
    assert evaluate(_rollback_prod(0.9), now, alone).execute_now
    assert not evaluate(_rollback_prod(0.5), now, alone).execute_now  # the confidence floor
    (tmp_path / "s").mkdir()
    watched = load_policy([gameday_policy(tmp_path / "s", "supervised")])
    assert not evaluate(_rollback_prod(0.9), now, watched).execute_now


def test_a_supervised_gameday_asks_the_on_call_outside_the_shipped_namespaces_too(
    tmp_path: Path,
) -> None:
    now = EvaluationContext(now=datetime(2026, 12, 7, 12, tzinfo=UTC))
    watched = load_policy([gameday_policy(tmp_path, "supervised")])
    batch = proposal("rollback_deployment", {"kind": "deployment", "namespace": "analytics",
                                              "name": "reporting-etl"})  # fmt: skip
    decided = evaluate(batch, now, watched)
    assert (decided.verdict.value, decided.rule) == ("RISKY", "gameday-approves")
    dns = proposal("rollback_deployment", {"kind": "deployment", "namespace": "kube-system",
                                            "name": "coredns"})  # fmt: skip
    assert evaluate(dns, now, watched).verdict.value == "FORBIDDEN"  # protected stays protected
