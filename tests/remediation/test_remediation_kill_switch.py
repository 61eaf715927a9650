"""`/opsbot pause|resume|status`: a kill switch every replica obeys, for approvers only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.app.server import Bot, build_bot
from sandbox.kube import KubeSandbox
from sandbox.slack.workspace import SlackWorkspace
from tests.remediation.conftest import deployment, proposal, remediation_bot
from tests.remediation.test_remediation_guards import wait_state

STAGING = deployment("checkout", "staging")


@contextmanager
def second_replica(first: Bot) -> Iterator[Bot]:
    """Another process's worth of bot on the same database (no Slack deliveries)."""
    replica = build_bot(first.deps.settings)
    replica.runtime.start()
    try:
        yield replica
    finally:
        replica.runtime.stop()


def command(slack: SlackWorkspace, user: str, text: str) -> str:
    before = len(slack.ephemerals(user))
    assert slack.slash_command(user, "incidents", "/opsbot", text).ok
    replies = slack.wait_for(lambda: slack.ephemerals(user)[before:], timeout=10)
    return str(replies[0]["text"])


def test_pause_on_one_replica_stops_actions_on_another_until_resumed(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    with (
        remediation_bot(
            slack,
            f"sqlite:///{tmp_path / 'bot.db'}",
            kubeconfig=kubeconfig,
            policy_file=policy_file,
        ) as bot,
        second_replica(bot.bot) as replica,
    ):
        assert "Only approvers" in command(slack, "U0CAROL", "pause")
        assert "Paused" in command(slack, "U0ALICE", "pause maintenance window")
        assert "already paused" in command(slack, "U0BOB", "pause")
        status = command(slack, "U0CAROL", "status")
        assert "Paused* by <@U0ALICE>" in status
        assert "maintenance window" in status

        svc = replica.runtime.remediation
        [blocked] = svc.propose(None, [proposal("restart_deployment", STAGING)], "restart")
        assert blocked.state == "blocked"
        assert "paused by <@U0ALICE>" in blocked.note

        assert "Resumed" in command(slack, "U0BOB", "resume")
        [runs] = svc.propose(
            None, [proposal("restart_deployment", STAGING, proposal_id="p2")], "restart"
        )
        assert runs.state == "approved"
        assert wait_state(slack, bot, runs.action_id, "succeeded", "failed") == "succeeded"
        assert "Running" in command(slack, "U0CAROL", "status")
        explained = command(
            slack, "U0CAROL", "policy explain restart_deployment deployment/prod/checkout"
        )
        assert "restart-prod" in explained
