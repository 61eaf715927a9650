from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from pydantic import ValidationError

from policies import (
    MAX_SCALE_REPLICAS,
    ActionKind,
    Decision,
    Disposition,
    HttpHookParams,
    Mode,
    PolicyInputError,
    ProposedAction,
    ResourceKind,
    ResourceRef,
    ScaleParams,
    Verdict,
    inverse_action,
    inverse_of,
    parse_action_kind,
    parse_target,
)
from policies.actions import PARAMS_MODEL, TARGET_KINDS

ActionFactory = Callable[..., ProposedAction]


def test_every_action_kind_declares_its_params_and_target_kinds() -> None:
    assert set(PARAMS_MODEL) == set(ActionKind)
    assert set(TARGET_KINDS) == set(ActionKind)


def test_namespace_deletion_is_not_an_action_kind() -> None:
    assert not [kind for kind in ActionKind if "namespace" in kind]


def test_inverse_pairs_cordon_with_uncordon_and_pause_with_resume() -> None:
    assert inverse_of(ActionKind.CORDON_NODE) is ActionKind.UNCORDON_NODE
    assert inverse_of(ActionKind.UNCORDON_NODE) is ActionKind.CORDON_NODE
    assert inverse_of(ActionKind.PAUSE_ROLLOUT) is ActionKind.RESUME_ROLLOUT
    assert inverse_of(ActionKind.RESUME_ROLLOUT) is ActionKind.PAUSE_ROLLOUT
    assert inverse_of(ActionKind.ROLLBACK_DEPLOYMENT) is ActionKind.ROLLBACK_DEPLOYMENT


def test_restart_delete_hook_and_volume_growth_cannot_be_undone() -> None:
    for kind in ("restart_deployment", "delete_pod", "http_hook", "expand_volume"):
        assert inverse_of(ActionKind(kind)) is None


def test_scale_is_undone_by_scaling_back_to_the_previous_replicas(
    make_action: ActionFactory,
) -> None:
    scale = make_action(
        "scale_deployment",
        "deployment/prod/checkout",
        params={"replicas": 10, "previous_replicas": 4},
    )
    undo = inverse_action(scale, action_id="undo-1")
    assert undo is not None
    assert undo.id == "undo-1"
    assert undo.params == ScaleParams(replicas=4, previous_replicas=10)
    assert undo.target == scale.target


def test_scale_without_previous_replicas_has_no_inverse_action(make_action: ActionFactory) -> None:
    scale = make_action("scale_deployment", "deployment/prod/checkout", params={"replicas": 10})
    assert inverse_action(scale, action_id="undo-1") is None


def test_scale_params_are_bounded() -> None:
    with pytest.raises(ValidationError, match="less than or equal"):
        ScaleParams(replicas=MAX_SCALE_REPLICAS + 1)
    with pytest.raises(ValidationError, match="greater than or equal"):
        ScaleParams(replicas=-1)


def test_raw_params_are_validated_with_the_kinds_own_model(make_action: ActionFactory) -> None:
    hook = make_action("http_hook", "deployment/prod/checkout", params={"hook": "clear-cache"})
    assert hook.params == HttpHookParams(hook="clear-cache")
    with pytest.raises(ValidationError, match="replicas"):
        make_action("scale_deployment", "deployment/prod/checkout", params={"hook": "x"})


def test_params_object_of_another_kind_is_rejected(make_action: ActionFactory) -> None:
    restart = make_action("restart_deployment", "deployment/prod/checkout")
    with pytest.raises(ValidationError, match="takes NoParams"):
        restart.model_validate({**restart.model_dump(), "params": ScaleParams(replicas=2)})


def test_delete_pod_must_target_a_pod(make_action: ActionFactory) -> None:
    with pytest.raises(ValidationError, match="delete_pod targets a pod"):
        make_action("delete_pod", "deployment/prod/checkout")


def test_proposer_is_a_slack_user_id_or_the_agent(make_action: ActionFactory) -> None:
    assert make_action("delete_pod", "pod/dev/x-1", proposer="U0ALICE").proposer == "U0ALICE"
    with pytest.raises(ValidationError, match="proposer"):
        make_action("delete_pod", "pod/dev/x-1", proposer="alice")


def test_proposed_action_survives_a_json_round_trip(make_action: ActionFactory) -> None:
    action = make_action(
        "scale_deployment", "deployment/prod/checkout", params={"replicas": 3}, labels={"a": "b"}
    )
    assert type(action).model_validate_json(action.model_dump_json()) == action


def test_decision_survives_a_json_round_trip() -> None:
    decision = Decision(
        verdict=Verdict.RISKY,
        rule="scale-prod",
        reason="why",
        mode=Mode.SUPERVISED,
        disposition=Disposition.REQUEST_APPROVAL,
        approvers=("S0ONCALL", "U0ALICE"),
        approvals_required=2,
        approval_expiry=timedelta(minutes=15),
    )
    assert Decision.model_validate_json(decision.model_dump_json()) == decision
    assert decision.approver_user_ids == ("U0ALICE",)
    assert decision.approver_usergroup_ids == ("S0ONCALL",)


def test_parse_target_reads_kind_namespace_and_name() -> None:
    assert parse_target("deployment/prod/checkout") == ResourceRef(
        kind=ResourceKind.DEPLOYMENT, namespace="prod", name="checkout"
    )


def test_parse_target_accepts_kubectl_short_names_and_cluster_scoped_nodes() -> None:
    assert parse_target("deploy/prod/checkout").kind is ResourceKind.DEPLOYMENT
    assert parse_target("po/prod/checkout-7d4b9c8f6-x2x9z").kind is ResourceKind.POD
    node = parse_target("node/ip-10-0-1-7.ec2.internal")
    assert node.namespace is None
    assert str(node) == "node/ip-10-0-1-7.ec2.internal"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("deployment/checkout", "a deployment needs a namespace"),
        ("node/prod/worker-1", "a node is cluster-scoped"),
        ("deploymnt/prod/checkout", "did you mean deployment?"),
        ("deployment/Prod/checkout", "not a valid DNS-1123 label"),
        ("checkout", "expected KIND/NAMESPACE/NAME"),
        ("deployment//checkout", "expected KIND/NAMESPACE/NAME"),
    ],
)
def test_parse_target_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PolicyInputError, match=message):
        parse_target(text)


def test_parse_action_kind_accepts_dashes_and_any_case() -> None:
    assert parse_action_kind("Scale-Deployment") is ActionKind.SCALE_DEPLOYMENT


def test_parse_action_kind_suggests_the_closest_kind() -> None:
    with pytest.raises(PolicyInputError, match=r"did you mean scale_deployment\?"):
        parse_action_kind("scale_deploy")
    with pytest.raises(PolicyInputError, match="known kinds: restart_deployment"):
        parse_action_kind("frobnicate")
