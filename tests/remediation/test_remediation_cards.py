"""The approval card and deny modal as pure Block Kit: what a pending card offers, what a
decided one says."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.incidents.blocks import ActionLine, IncidentView, header_blocks, header_text
from bot.remediation.blocks import (
    ActionCard,
    approval_card,
    approve_modal,
    as_text,
    deny_modal,
    handle,
    who,
)

AT = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)


def make_card(**changes: object) -> ActionCard:
    base = ActionCard(
        action_id="act-123",
        kind="rollback_deployment",
        target="deployment/prod/checkout",
        params={"to_revision": None},
        reason="roll back the bad image",
        summary="checkout 1.9.0 cannot pull its image",
        evidence=("3 pods in ImagePullBackOff", "rollout started 10:02"),
        confidence=0.92,
        blast={
            "pods_affected": 3,
            "replicas_affected": 3,
            "workload_share": 1.0,
            "namespaces_touched": 1,
        },
        verdict="RISKY",
        rule="rollback-prod",
        rule_reason="Rolling production back needs an approval.",
        state="pending",
        proposer="agent",
        approvals_required=1,
        approvers=("S0ONCALL",),
        expires_at=AT,
    )
    return base.__class__(**{**base.__dict__, **changes})


def test_a_pending_card_shows_what_where_why_blast_radius_rule_and_two_buttons() -> None:
    text = as_text(approval_card(make_card()))
    for expected in (
        "rollback_deployment",
        "deployment/prod/checkout",
        "roll back the bad image",
        "Evidence: in the finding above this card",
        "3 pod(s), 3 replica(s), 100% of the workload, 1 namespace(s)",
        "rollback-prod",
        "confidence 92%",
        "<!subteam^S0ONCALL>",
    ):
        assert expected in text
    assert "3 pods in ImagePullBackOff" not in text  # the finding shows the evidence once
    [actions] = [b for b in approval_card(make_card()) if b.type == "actions"]
    buttons = actions.to_dict()["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("action_approve", "act-123"),
        ("action_deny", "act-123"),
    ]
    # Slack shows a client-side confirm to anyone who clicks, before opsbot knows who it is.
    assert [b for b in buttons if "confirm" in b] == []


def test_the_approve_modal_says_what_runs_where_and_how_many_approvals_are_left() -> None:
    view = approve_modal(make_card(), '{"action": "act-123"}').to_dict()
    assert (view["callback_id"], view["submit"]["text"], view["close"]["text"]) == (
        "action_approve_modal",
        "Approve",
        "Cancel",
    )
    assert json.loads(view["private_metadata"]) == {"action": "act-123"}
    text = json.dumps(view)
    for expected in (
        "rollback_deployment",
        "deployment/prod/checkout",
        "3 pod(s), 3 replica(s)",
        "rollback-prod",
        "dry run first",
        "Your approval runs it now.",
    ):
        assert expected in text
    two = json.dumps(approve_modal(make_card(approvals_required=2), "{}").to_dict())
    assert "Yours is one of 2 approvals it still needs" in two
    last = json.dumps(
        approve_modal(make_card(approvals_required=2, approvals=("U0BOB",)), "{}").to_dict()
    )
    assert "Your approval runs it now." in last


def test_an_automatic_undo_is_credited_to_opsbot_and_the_approval_to_the_approvers() -> None:
    blocks = approval_card(
        make_card(
            state="rolled_back",
            decided_by="U0BOB,U0ALICE",
            decided_at=AT,
            outcome=("Validation: worse", "Undone: rollback_deployment"),
        )
    )
    text = as_text(blocks)
    assert "Rolled back* by opsbot" in text
    assert "Rolled back* by <@U0BOB>" not in text
    assert "Approved by <@U0BOB>, <@U0ALICE> at <!date^1741084200^" in text
    assert "Undone: rollback_deployment" in text
    assert all(b.type != "actions" for b in blocks)


def test_a_denied_card_says_who_denied_it_and_when() -> None:
    text = as_text(
        approval_card(
            make_card(state="denied", decided_by="U0BOB", decided_at=AT, deny_reason="no")
        )
    )
    assert "Denied* by <@U0BOB> at <!date^1741084200^" in text
    assert "Reason: no" in text


def test_the_deny_modal_carries_the_action_id_and_asks_why() -> None:
    view = deny_modal("act-123", "deployment/prod/checkout", "restart_deployment").to_dict()
    assert view["private_metadata"] == "act-123"
    assert view["callback_id"] == "action_deny_modal"
    [field] = [b for b in view["blocks"] if b["type"] == "input"]
    assert (field["block_id"], field["element"]["action_id"]) == (
        "deny_reason",
        "action_deny_reason",
    )
    assert "restart_deployment" in json.dumps(view)


def test_mentions_are_handles_only_for_real_ids_and_the_policy_is_named_in_words() -> None:
    assert handle("S0ONCALL") == "<!subteam^S0ONCALL>"
    assert handle("U0BOB") == "<@U0BOB>"
    assert handle("policy:delete-job-nonprod") == "the policy (rule `delete-job-nonprod`)"
    assert handle("<!channel>") == "&lt;!channel&gt;"
    assert who([]) == "nobody"
    decided = as_text(
        approval_card(make_card(state="succeeded", decided_by="policy:delete-job-nonprod"))
    )
    assert "<@policy" not in decided
    assert "by the policy (rule `delete-job-nonprod`)" in decided


def header_of(status: str, *actions: ActionLine) -> str:
    view = IncidentView(
        id=7,
        title="checkout is failing 12% of requests",
        severity="critical",
        service="checkout",
        namespace="prod",
        status=status,
        opened_at=AT,
        acknowledged_by=None,
        external_url="",
        alerts=(),
        actions=actions,
    )
    return header_text(view) + "\n" + as_text(header_blocks(view, AT))


def test_the_incident_header_lists_its_actions_and_says_when_one_fixed_it() -> None:
    rollback = ActionLine("rollback_deployment", "deployment/prod/checkout", "pending")
    text = header_of("open", rollback)
    assert "`rollback_deployment` on deployment/prod/checkout: waiting for approval" in text
    assert "fixed" not in text
    done = header_of("open", ActionLine(rollback.kind, rollback.target, "succeeded"))
    assert done.startswith("[Firing, fixed] #7")
    assert "fixed by `rollback_deployment`; waiting for the alerts to clear" in done
    assert "done, and the metrics recovered" in done
