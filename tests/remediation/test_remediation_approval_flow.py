"""The approval loop end to end: policy → card in the incident thread → a click in the
Slack emulator → dry run and the real call against the Kubernetes sandbox → validation
against a real Prometheus → the card says who decided and what happened."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from kubernetes import client
from sqlmodel import col, select

from bot.audit import chain as audit
from bot.remediation.proposals import ProposalOutcome
from bot.remediation.records import ActionState
from bot.store.actions import ActionRecord
from bot.store.models import AuditEvent
from sandbox.kube import Fault, KubeSandbox
from sandbox.procs.process import ManagedProcess
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, approve_in_slack
from tests.remediation.conftest import (
    BAD_IMAGE,
    GOOD_IMAGE,
    STUCK_CHECKOUT,
    deployment,
    open_incident,
    promql,
    proposal,
    remediation_bot,
)


def deploy_bad_image(kube: KubeSandbox) -> None:
    kube.cluster.add_fault(Fault(kind="bad_image", image=BAD_IMAGE))
    apps: Any = client.AppsV1Api(kube.api_client())
    apps.patch_namespaced_deployment(
        "checkout",
        "prod",
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": BAD_IMAGE}]}}}},
    )


def card(slack: SlackWorkspace, action_id: str) -> dict[str, Any] | None:
    for message in slack.messages("incidents"):
        for reply in slack.thread("incidents", message["ts"]):
            if action_id in json.dumps(reply.get("blocks", [])):
                return reply
    return None


def card_says(slack: SlackWorkspace, action_id: str, text: str) -> dict[str, Any] | None:
    found = card(slack, action_id)
    return found if found and text in json.dumps(found["blocks"]) else None


def restart_card(
    bot: RunningBot, slack: SlackWorkspace, button: str
) -> tuple[ProposalOutcome, dict[str, Any]]:
    """An incident with a proposed restart of prod/checkout, and its card once it shows
    `button` (the approval card every click test starts from)."""
    incident_id = open_incident(bot, slack)
    [outcome] = bot.bot.runtime.remediation.propose(
        incident_id, [proposal("restart_deployment", deployment())], "restart"
    )
    return outcome, slack.wait_for(lambda: card_says(slack, outcome.action_id, button))


def state_of(bot: RunningBot, action_id: str) -> str:
    with bot.bot.deps.db.session() as session:
        record = session.get(ActionRecord, action_id)
        assert record is not None
        return record.state


def test_risky_rollback_approved_by_an_oncall_member_heals_the_cluster_and_validates(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    prometheus: ManagedProcess,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    deploy_bad_image(kube)
    with remediation_bot(
        slack,
        f"sqlite:///{tmp_path / 'bot.db'}",
        kubeconfig=kubeconfig,
        policy_file=policy_file,
        prometheus_url=prometheus.url,
    ) as bot:
        incident_id = open_incident(bot, slack)
        slack.wait_for(lambda: promql(prometheus, STUCK_CHECKOUT), timeout=20)
        rt = bot.bot.runtime
        [outcome] = rt.remediation.propose(
            incident_id,
            [proposal("rollback_deployment", deployment())],
            "checkout 1.9.0 cannot pull its image",
        )
        assert (outcome.state, outcome.verdict, outcome.rule) == (
            ActionState.PENDING,
            "RISKY",
            "rollback-prod",
        )
        pending = slack.wait_for(lambda: card_says(slack, outcome.action_id, "action_approve"))
        buttons = [e for b in pending["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert {b["value"] for b in buttons} == {outcome.action_id}
        # No client-side confirm: Slack would show it to anyone, approver or not.
        assert not [b for b in buttons if "confirm" in b]
        # Measured on the cluster (3 replicas plus the stuck surge pod), not the estimate of 1.
        assert "4 pod(s), 3 replica(s), 100% of the workload" in json.dumps(pending["blocks"])

        confirmation = approve_in_slack(slack, "U0BOB", "incidents", pending["ts"])
        shown = json.dumps(confirmation["blocks"])
        assert "rollback_deployment" in shown
        assert "deployment/prod/checkout" in shown
        assert "4 pod(s), 3 replica(s)" in shown
        assert "dry run first" in shown
        done = slack.wait_for(lambda: card_says(slack, outcome.action_id, "Succeeded"), timeout=40)
        text = json.dumps(done["blocks"])
        assert "<@U0BOB>" in text
        assert "recovered" in text
        assert "action_approve" not in text
        header = slack.wait_for(
            lambda: [
                m
                for m in slack.messages("incidents")
                if "fixed by `rollback_deployment`" in json.dumps(m.get("blocks", []))
            ],
            timeout=20,
        )
        assert header[0]["text"].startswith("[Firing, fixed]")

    core: Any = client.CoreV1Api(kube.api_client())
    pods = core.list_namespaced_pod("prod", label_selector="app=checkout").items
    assert {p.spec.containers[0].image for p in pods} == {GOOD_IMAGE}
    with bot.bot.deps.db.session() as session:
        actions = [
            e.action
            for e in session.exec(
                select(AuditEvent)
                .where(AuditEvent.subject == f"action:{outcome.action_id}")
                .order_by(col(AuditEvent.id))
            )
        ]
        assert actions == [
            "action.proposed",
            "action.pending",
            "action.approved",
            "action.executing",
            "action.dry_run",
            "action.applied",
            "action.succeeded",
        ]
        assert audit.verify_chain(session)[1] is None
        proposed = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "action.proposed",
                AuditEvent.subject == f"action:{outcome.action_id}",
            )
        ).one()
        assert proposed.rule == "rollback-prod"
        assert proposed.detail["confidence"] == 0.9
        assert proposed.detail["facts"]["to_images"] == [GOOD_IMAGE]


def test_the_proposer_and_strangers_are_refused_at_the_click_without_a_dialog(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=policy_file
    ) as bot:
        incident_id = open_incident(bot, slack)
        [outcome] = bot.bot.runtime.remediation.propose(
            incident_id,
            [proposal("restart_deployment", deployment(), proposer="U0ALICE")],
            "restart checkout",
        )
        pending = slack.wait_for(lambda: card_says(slack, outcome.action_id, "action_approve"))
        slack.click_button("U0ALICE", "incidents", pending["ts"], "action_approve")
        slack.click_button("U0CAROL", "incidents", pending["ts"], "action_approve")
        own = slack.wait_for(
            lambda: [e for e in slack.ephemerals("U0ALICE") if "someone else" in e["text"]]
        )
        stranger = slack.wait_for(
            lambda: [e for e in slack.ephemerals("U0CAROL") if "may not approve" in e["text"]]
        )
        assert own
        assert stranger
        assert slack.open_view("U0ALICE") is None
        assert slack.open_view("U0CAROL") is None
        assert not slack.calls("views.open")
        assert state_of(bot, outcome.action_id) == ActionState.PENDING


def test_an_approver_who_cancels_the_confirmation_leaves_the_action_pending(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=policy_file
    ) as bot:
        outcome, pending = restart_card(bot, slack, "action_approve")
        slack.click_button("U0BOB", "incidents", pending["ts"], "action_approve")
        modal = slack.wait_for(partial(slack.open_view, "U0BOB"))
        assert (modal["callback_id"], modal["submit"]["text"]) == (
            "action_approve_modal",
            "Approve",
        )
        slack.close_view("U0BOB", modal["id"])
        assert state_of(bot, outcome.action_id) == ActionState.PENDING
        assert card_says(slack, outcome.action_id, "action_approve")
        assert slack.ephemerals("U0BOB") == []


def test_two_approvers_confirming_at_the_same_time_run_the_action_once(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=policy_file
    ) as bot:
        incident_id = open_incident(bot, slack)
        [outcome] = bot.bot.runtime.remediation.propose(
            incident_id, [proposal("restart_deployment", deployment("payments"))], "restart"
        )
        pending = slack.wait_for(lambda: card_says(slack, outcome.action_id, "action_approve"))
        # Both open the confirmation while it is pending, then both submit it.
        modals: dict[str, dict[str, Any]] = {}
        for user in ("U0BOB", "U0ALICE"):
            slack.click_button(user, "incidents", pending["ts"], "action_approve")
            modals[user] = slack.wait_for(partial(slack.open_view, user))
        for user, modal in modals.items():
            slack.submit_view(user, modal["id"])
        slack.wait_for(lambda: card_says(slack, outcome.action_id, "Succeeded"), timeout=40)
        slack.wait_for(lambda: all(slack.ephemerals(u) for u in modals) or None)
        with bot.bot.deps.db.session() as session:
            executions = session.exec(
                select(AuditEvent).where(AuditEvent.action == "action.applied")
            ).all()
        assert len(executions) == 1
        texts = sorted(e["text"] for u in modals for e in slack.ephemerals(u))
        assert sum(t.startswith("Approved. opsbot runs it now") for t in texts) == 1
        assert [t for t in texts if "already" in t or "decided first" in t]


def test_an_expired_card_refuses_and_says_so(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=policy_file
    ) as bot:
        outcome, pending = restart_card(bot, slack, "action_approve")
        with bot.bot.deps.db.session() as session:
            record = session.get(ActionRecord, outcome.action_id)
            assert record is not None
            record.expires_at = record.created_at
            session.add(record)
        slack.click_button("U0BOB", "incidents", pending["ts"], "action_approve")
        slack.wait_for(lambda: [e for e in slack.ephemerals("U0BOB") if "expired" in e["text"]])
        assert slack.open_view("U0BOB") is None
        slack.wait_for(lambda: card_says(slack, outcome.action_id, "Expired"))
        assert state_of(bot, outcome.action_id) == ActionState.EXPIRED


def test_deny_opens_a_modal_and_records_the_reason(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=policy_file
    ) as bot:
        outcome, pending = restart_card(bot, slack, "action_deny")
        slack.click_button("U0ALICE", "incidents", pending["ts"], "action_deny")
        modal = slack.wait_for(lambda: slack.open_view("U0ALICE"))
        assert json.loads(modal["private_metadata"])["action"] == outcome.action_id
        slack.submit_view(
            "U0ALICE",
            modal["id"],
            {"deny_reason": {"action_deny_reason": "a deploy is in progress"}},
        )
        denied = slack.wait_for(lambda: card_says(slack, outcome.action_id, "Denied"))
        assert "a deploy is in progress" in json.dumps(denied["blocks"])
        assert "<@U0ALICE>" in json.dumps(denied["blocks"])
        with bot.bot.deps.db.session() as session:
            row = session.exec(select(AuditEvent).where(AuditEvent.action == "action.denied")).one()
        assert (row.actor, row.detail["reason"]) == ("U0ALICE", "a deploy is in progress")


def test_a_non_approver_is_refused_before_any_modal_in_the_thread_and_the_refusal_is_audited(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=policy_file
    ) as bot:
        outcome, pending = restart_card(bot, slack, "action_deny")
        slack.click_button("U0CAROL", "incidents", pending["ts"], "action_deny")
        slack.click_button("U0CAROL", "incidents", pending["ts"], "action_approve")
        refusals = slack.wait_for(
            lambda: (
                [e for e in slack.ephemerals("U0CAROL") if "may not" in e["text"]]
                if len(slack.ephemerals("U0CAROL")) >= 2
                else []
            )
        )
        assert slack.open_view("U0CAROL") is None
        assert {e.get("thread_ts") for e in refusals} == {pending["thread_ts"]}
        assert all("<!subteam^" in e["text"] for e in refusals)
        assert all("S0ONCALL" not in e["text"].replace("<!subteam^S0ONCALL>", "") for e in refusals)
        with bot.bot.deps.db.session() as session:
            rows = session.exec(
                select(AuditEvent).where(AuditEvent.action == "action.click_refused")
            ).all()
        assert sorted((r.actor, r.detail["button"]) for r in rows) == [
            ("U0CAROL", "approve"),
            ("U0CAROL", "deny"),
        ]
        assert state_of(bot, outcome.action_id) == ActionState.PENDING
