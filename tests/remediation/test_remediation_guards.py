"""Guards shared through the store: circuit breakers, rate limits and the kill switch."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.remediation.status import status_text
from bot.store.actions import ActionRecord
from bot.store.models import utcnow
from sandbox.kube import KubeSandbox, RbacPolicy, RbacRule
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot
from tests.remediation.conftest import deployment, proposal, remediation_bot

STAGING = deployment("checkout", "staging")


def wait_state(slack: SlackWorkspace, bot: RunningBot, action_id: str, *states: str) -> str:
    def reached() -> str | None:
        with bot.bot.deps.db.session() as session:
            record = session.get(ActionRecord, action_id)
            return record.state if record and record.state in states else None

    return slack.wait_for(reached, timeout=30)


def read_only(kube: KubeSandbox) -> None:
    """RBAC that lets opsbot read but not patch: every execution fails at its dry run."""
    kube.cluster.set_rbac(RbacPolicy(rules=[RbacRule.of(["get", "list", "watch"], ["*"])]))


def test_failures_open_the_breaker_which_turns_safe_into_needs_approval_until_a_trial_passes(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    read_only(kube)
    with remediation_bot(
        slack,
        f"sqlite:///{tmp_path / 'bot.db'}",
        kubeconfig=kubeconfig,
        policy_file=policy_file,
        breaker_cooldown_seconds=3.0,
    ) as bot:
        svc = bot.bot.runtime.remediation
        for n in range(3):
            [failed] = svc.propose(
                None, [proposal("restart_deployment", STAGING, proposal_id=f"f{n}")], "restart"
            )
            assert failed.verdict == "SAFE"
            assert wait_state(slack, bot, failed.action_id, "failed", "succeeded") == "failed"
        [held] = svc.propose(
            None, [proposal("restart_deployment", STAGING, proposal_id="held")], "restart"
        )
        assert held.state == "pending"
        assert "circuit breaker open" in held.note
        assert "restart_deployment: open (3 failed of last 3)" in status_text(svc.parts)

        kube.cluster.set_rbac(RbacPolicy())
        time.sleep(3.2)  # the cool-down: the breaker is half-open now
        [trial] = svc.propose(
            None, [proposal("restart_deployment", STAGING, proposal_id="trial")], "restart"
        )
        assert trial.state == "approved"
        assert wait_state(slack, bot, trial.action_id, "failed", "succeeded") == "succeeded"
        with bot.bot.deps.db.session() as session:
            views = {v.scope: v.state for v in svc.guards.all_breakers(session, utcnow())}
        assert views == {"global": "closed", "restart_deployment": "closed"}


def test_the_namespace_rate_limit_blocks_the_action_over_budget(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    with remediation_bot(
        slack,
        f"sqlite:///{tmp_path / 'bot.db'}",
        kubeconfig=kubeconfig,
        policy_file=policy_file,
        max_actions_per_namespace_per_hour=2,
    ) as bot:
        svc = bot.bot.runtime.remediation
        outcomes = svc.propose(
            None,
            [proposal("restart_deployment", STAGING, proposal_id=f"r{n}") for n in range(3)],
            "restart",
        )
        finals = sorted(
            wait_state(slack, bot, o.action_id, "succeeded", "failed", "blocked") for o in outcomes
        )
        assert finals == ["blocked", "succeeded", "succeeded"]
        blocked = next(o for o in outcomes if "blocked" in _state(bot, o.action_id))
        card = slack.wait_for(
            lambda: [
                m
                for m in slack.messages("incidents")
                if blocked.action_id in json.dumps(m.get("blocks", []))
                and "rate limit" in json.dumps(m.get("blocks", []))
            ]
        )
        assert "namespace staging" in json.dumps(card[0]["blocks"])


def _state(bot: RunningBot, action_id: str) -> str:
    with bot.bot.deps.db.session() as session:
        record = session.get(ActionRecord, action_id)
        assert record is not None
        return record.state
