"""When an action makes things worse it is undone and humans are called; FORBIDDEN and
low-confidence proposals are escalated the same way; two-approver rules wait for two."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubernetes import client
from sqlmodel import select

from bot.incidents import operations as incident_ops
from bot.remediation import Rationale
from bot.remediation.records import ActionState
from bot.store.actions import Escalation
from sandbox.kube import Fault, KubeSandbox
from sandbox.pagerduty import PagerDutySandbox
from sandbox.procs.process import ManagedProcess
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, approve_in_slack
from tests.remediation.conftest import (
    GOOD_IMAGE,
    STUCK_CHECKOUT,
    deployment,
    open_incident,
    promql,
    proposal,
    remediation_bot,
)
from tests.remediation.test_remediation_approval_flow import (
    card_says,
    deploy_bad_image,
    state_of,
)

PREVIOUS_IMAGE = "registry.example.com/shop/checkout:1.8.1"


def approve_rollback(
    bot: RunningBot,
    slack: SlackWorkspace,
    incident_id: int,
    why: str,
    rationale: Rationale | None = None,
) -> tuple[str, dict[str, Any]]:
    """Propose a rollback of checkout, approve it as U0BOB; the card and its id."""
    [outcome] = bot.bot.runtime.remediation.propose(
        incident_id, [proposal("rollback_deployment", deployment())], why, rationale=rationale
    )
    pending = slack.wait_for(lambda: card_says(slack, outcome.action_id, "action_approve"))
    approve_in_slack(slack, "U0BOB", "incidents", pending["ts"])
    return outcome.action_id, pending


def checkout_image(kube: KubeSandbox) -> str:
    apps: Any = client.AppsV1Api(kube.api_client())
    template = apps.read_namespaced_deployment("checkout", "prod").spec.template
    return str(template.spec.containers[0].image)


def escalations_saying(slack: SlackWorkspace, words: str) -> list[dict[str, Any]]:
    header = next(m for m in slack.messages("incidents") if m.get("thread_ts"))
    return [
        m
        for m in slack.thread("incidents", header["thread_ts"])
        if "<!subteam^S0ONCALL>" in m.get("text", "") and words in m["text"]
    ]


def test_a_rollback_that_makes_a_healthy_deployment_worse_is_undone_by_opsbot(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    prometheus: ManagedProcess,
    policy_file: Path,
    pagerduty: PagerDutySandbox,
    tmp_path: Path,
) -> None:
    # A deliberately bad action: checkout 1.8.2 is healthy, its previous revision (1.8.1)
    # cannot even pull, and someone has it rolled back anyway.
    kube.cluster.add_fault(Fault(kind="bad_image", image=PREVIOUS_IMAGE))
    with remediation_bot(
        slack,
        f"sqlite:///{tmp_path / 'bot.db'}",
        kubeconfig=kubeconfig,
        policy_file=policy_file,
        prometheus_url=prometheus.url,
        pagerduty=pagerduty,
    ) as bot:
        incident_id = open_incident(bot, slack)
        action_id, _ = approve_rollback(bot, slack, incident_id, "checkout looks off")
        done = slack.wait_for(lambda: card_says(slack, action_id, "Rolled back"), timeout=40)
        text = json.dumps(done["blocks"])
        assert "worse" in text
        assert "Undone by opsbot" in text
        assert "Rolled back* by opsbot" in text
        assert "Approved by <@U0BOB>" in text
        assert slack.wait_for(lambda: escalations_saying(slack, "rolled back"), timeout=15)
        [page] = slack.wait_for(pagerduty.alerts)
        assert (page.dedup_key, page.status) == (f"opsbot-incident-{incident_id}", "triggered")

        def recorded() -> list[Escalation]:
            with bot.bot.deps.db.session() as session:
                return list(session.exec(select(Escalation).where(Escalation.paged)).all())

        slack.wait_for(recorded)
        incident_ops.resolve_by_hand(bot.bot.deps.db, incident_id, "U0BOB")
        assert bot.bot.runtime.remediation.escalator.resolve_finished() == 1
        assert pagerduty.alerts()[0].status == "resolved"
    assert checkout_image(kube) == GOOD_IMAGE


def test_a_rollback_away_from_a_failing_revision_is_never_undone_even_when_worse(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    prometheus: ManagedProcess,
    policy_file: Path,
    pagerduty: PagerDutySandbox,
    tmp_path: Path,
) -> None:
    # checkout 1.8.2 fails readiness; its previous revision (1.8.1) cannot even pull.
    kube.cluster.add_fault(Fault(kind="readiness", namespace="prod", deployment="checkout"))
    kube.cluster.add_fault(Fault(kind="bad_image", image=PREVIOUS_IMAGE))
    with remediation_bot(
        slack,
        f"sqlite:///{tmp_path / 'bot.db'}",
        kubeconfig=kubeconfig,
        policy_file=policy_file,
        prometheus_url=prometheus.url,
        pagerduty=pagerduty,
    ) as bot:
        incident_id = open_incident(bot, slack)
        slack.wait_for(
            lambda: [r for r in promql(prometheus, STUCK_CHECKOUT) if r["value"][1] == "3"],
            timeout=20,
        )
        action_id, _ = approve_rollback(bot, slack, incident_id, "1.8.2 is unready")
        done = slack.wait_for(lambda: card_says(slack, action_id, "Failed"), timeout=40)
        text = json.dumps(done["blocks"])
        assert "not undone" in text
        assert "never re-runs a failed image" in text
        assert "Undone" not in text
        assert slack.wait_for(lambda: escalations_saying(slack, "failed"), timeout=15)
        [page] = slack.wait_for(pagerduty.alerts)
        assert page.status == "triggered"
        assert state_of(bot, action_id) == ActionState.FAILED
    assert checkout_image(kube) == PREVIOUS_IMAGE


def test_an_action_that_does_not_help_is_kept_and_escalated_never_undone(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    prometheus: ManagedProcess,
    policy_file: Path,
    pagerduty: PagerDutySandbox,
    tmp_path: Path,
) -> None:
    # The rollback heals the workload, but the alert's expression never clears (as with
    # metrics that do not follow the cluster): not recovered, so kept, and humans called.
    deploy_bad_image(kube)
    with remediation_bot(
        slack,
        f"sqlite:///{tmp_path / 'bot.db'}",
        kubeconfig=kubeconfig,
        policy_file=policy_file,
        prometheus_url=prometheus.url,
        pagerduty=pagerduty,
        validation_deadline_seconds=6.0,
    ) as bot:
        incident_id = open_incident(bot, slack, expr="vector(1) > 0")
        advice = Rationale(summary="1.9.0 cannot pull", next_steps=["Re-push <checkout>:1.9.0"])
        action_id, _ = approve_rollback(bot, slack, incident_id, "1.9.0 cannot pull", advice)
        done = slack.wait_for(lambda: card_says(slack, action_id, "Not recovered"), timeout=40)
        text = json.dumps(done["blocks"])
        assert "Not recovered* by opsbot" in text
        assert "Approved by <@U0BOB>" in text
        assert "the change is kept" in text
        assert "Undone" not in text
        shown = [json.dumps(c.args.get("blocks")) for c in slack.calls("chat.update")]
        assert any("Dry run" in s and "Applied" not in s for s in shown)
        assert any("Validating 1/" in s for s in shown)
        [told] = slack.wait_for(lambda: escalations_saying(slack, "not recovered"), timeout=15)
        # the person called is told what to do, the finding's advice shown literally
        assert "What a human must do: Re-push &lt;checkout&gt;:1.9.0" in told["text"]
        [page] = slack.wait_for(pagerduty.alerts)
        assert page.status == "triggered"
        assert state_of(bot, action_id) == ActionState.NOT_RECOVERED
    assert checkout_image(kube) == GOOD_IMAGE


def test_forbidden_and_low_confidence_proposals_are_escalated_to_pagerduty(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    pagerduty: PagerDutySandbox,
    tmp_path: Path,
) -> None:
    with remediation_bot(
        slack,
        f"sqlite:///{tmp_path / 'bot.db'}",
        kubeconfig=kubeconfig,
        policy_file=policy_file,
        pagerduty=pagerduty,
    ) as bot:
        incident_id = open_incident(bot, slack)
        forbidden, unsure = bot.bot.runtime.remediation.propose(
            incident_id,
            [
                proposal("restart_deployment", deployment("coredns", "kube-system")),
                proposal("restart_deployment", deployment(), confidence=0.5, proposal_id="p2"),
            ],
            "DNS is slow",
        )
        assert (forbidden.state, forbidden.rule) == (ActionState.REFUSED, "protected-namespace")
        assert unsure.state is ActionState.PENDING
        slack.wait_for(lambda: card_says(slack, forbidden.action_id, "Refused"))
        [page] = slack.wait_for(pagerduty.alerts)
        assert page.dedup_key == f"opsbot-incident-{incident_id}"
        assert page.log == ["trigger", "trigger"]
        reasons = [e["payload"]["custom_details"]["reason"] for e in pagerduty.events()]
        assert "FORBIDDEN" in reasons[0]
        # the step goes to a human, named exactly
        assert (
            "For a human who may: restart_deployment on deployment/kube-system/coredns"
            in (reasons[0])
        )
        assert "low confidence" in reasons[1]
        with bot.bot.deps.db.session() as session:
            assert len(session.exec(select(Escalation)).all()) == 1


def test_a_two_approver_rule_waits_for_a_second_approver(
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
            incident_id, [proposal("cordon_node", {"kind": "node", "name": "node-2"})], "bad disk"
        )
        assert outcome.rule == "cordon-node"
        pending = slack.wait_for(lambda: card_says(slack, outcome.action_id, "action_approve"))
        approve_in_slack(slack, "U0BOB", "incidents", pending["ts"])
        slack.wait_for(lambda: [e for e in slack.ephemerals("U0BOB") if "1 of 2" in e["text"]])
        slack.wait_for(lambda: card_says(slack, outcome.action_id, "approved so far by <@U0BOB>"))
        assert state_of(bot, outcome.action_id) == ActionState.PENDING
        slack.click_button("U0BOB", "incidents", pending["ts"], "action_approve")
        slack.wait_for(lambda: [e for e in slack.ephemerals("U0BOB") if "already" in e["text"]])
        assert slack.open_view("U0BOB") is None  # told at once, no dialog to dismiss
        approve_in_slack(slack, "U0ALICE", "incidents", pending["ts"])
        done = slack.wait_for(lambda: card_says(slack, outcome.action_id, "Succeeded"), timeout=20)
        assert "<@U0BOB>, <@U0ALICE>" in json.dumps(done["blocks"])
    core: Any = client.CoreV1Api(kube.api_client())
    assert core.read_node("node-2").spec.unschedulable is True
