"""A proposal that comes again inside one incident (an hourly capacity re-scan, a second
investigation) gets no second card when its answer cannot have changed: still open, denied
by a human, or forbidden by the policy. What a guard refused, or what ran, may come again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.remediation.records import ActionState
from bot.store.actions import ActionRecord, Escalation
from sandbox.kube import KubeSandbox
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot
from tests.remediation.conftest import deployment, open_incident, proposal, remediation_bot


@pytest.fixture
def bot(
    database_url: str,
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
) -> Iterator[RunningBot]:
    with remediation_bot(
        slack, database_url, kubeconfig=kubeconfig, policy_file=policy_file
    ) as running:
        yield running


def records(bot: RunningBot) -> list[ActionRecord]:
    with bot.bot.deps.db.session() as session:
        return list(session.exec(select(ActionRecord)).all())


def test_a_denied_proposal_repeated_in_its_incident_is_a_duplicate_without_a_card(
    bot: RunningBot, slack: SlackWorkspace
) -> None:
    remediation = bot.bot.runtime.remediation
    incident_id = open_incident(bot, slack)
    restart = proposal("restart_deployment", deployment("payments"))
    [first] = remediation.propose(incident_id, [restart], "restart payments")
    assert first.state is ActionState.PENDING
    assert not remediation.deny(first.action_id, "U0ALICE", "not now").refused
    [again] = remediation.propose(incident_id, [restart], "restart payments")
    assert (again.note, again.action_id, again.state) == (
        "duplicate",
        first.action_id,
        ActionState.DENIED,
    )
    assert len(records(bot)) == 1


def test_a_forbidden_proposal_repeated_in_its_incident_pages_once(
    bot: RunningBot, slack: SlackWorkspace
) -> None:
    remediation = bot.bot.runtime.remediation
    incident_id = open_incident(bot, slack)
    coredns = proposal("restart_deployment", deployment("coredns", "kube-system"))
    [first] = remediation.propose(incident_id, [coredns], "DNS is slow")
    assert first.state is ActionState.REFUSED
    [again] = remediation.propose(incident_id, [coredns], "DNS is slow")
    assert (again.note, again.action_id) == ("duplicate", first.action_id)
    assert len(records(bot)) == 1
    with bot.bot.deps.db.session() as session:
        assert len(session.exec(select(Escalation)).all()) == 1


def test_a_proposal_that_ran_may_be_proposed_again_in_its_incident(
    bot: RunningBot, slack: SlackWorkspace
) -> None:
    remediation = bot.bot.runtime.remediation
    incident_id = open_incident(bot, slack)
    restart = proposal("restart_deployment", deployment("payments"))
    [first] = remediation.propose(incident_id, [restart], "restart payments")
    with bot.bot.deps.db.session() as session:  # it ran and failed: a retry is a question
        row = session.get(ActionRecord, first.action_id)
        assert row is not None
        row.state = ActionState.FAILED
        session.add(row)
        session.commit()
    [again] = remediation.propose(incident_id, [restart], "restart payments")
    assert again.note != "duplicate"
    assert again.action_id != first.action_id
