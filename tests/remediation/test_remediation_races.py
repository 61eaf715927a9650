"""Two replicas, two approvers clicking at the same moment: the action runs once."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlmodel import select

from bot.remediation.approvals import ClickResult
from bot.store.models import AuditEvent
from sandbox.kube import KubeSandbox
from sandbox.slack.workspace import SlackWorkspace
from tests.remediation.conftest import deployment, proposal, remediation_bot
from tests.remediation.test_remediation_guards import wait_state
from tests.remediation.test_remediation_kill_switch import second_replica


def test_two_approvers_racing_on_two_replicas_execute_the_action_once(
    database_url: str,
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
) -> None:
    with (
        remediation_bot(slack, database_url, kubeconfig=kubeconfig, policy_file=policy_file) as bot,
        second_replica(bot.bot) as replica,
    ):
        [outcome] = bot.bot.runtime.remediation.propose(
            None, [proposal("restart_deployment", deployment("payments"))], "restart payments"
        )
        assert outcome.state == "pending"
        start = threading.Barrier(2)
        results: list[ClickResult] = []

        def click(replica_bot: object, user: str) -> None:
            from bot.app.server import Bot

            assert isinstance(replica_bot, Bot)
            start.wait()
            results.append(replica_bot.runtime.remediation.approve(outcome.action_id, user))

        threads = [
            threading.Thread(target=click, args=(bot.bot, "U0ALICE")),
            threading.Thread(target=click, args=(replica, "U0BOB")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(r.execute for r in results) == [False, True]
        assert wait_state(slack, bot, outcome.action_id, "succeeded", "failed") == "succeeded"
        with bot.bot.deps.db.session() as session:
            actions = [e.action for e in session.exec(select(AuditEvent)).all()]
        assert actions.count("action.approved") == 1
        assert actions.count("action.executing") == 1
        assert actions.count("action.applied") == 1
