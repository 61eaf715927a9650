"""SIGKILL around an approval, against real `opsbot run` processes and the Kubernetes
sandbox: a pending card survives the crash and executes once when approved after restart;
an approval accepted just before the crash runs once after it, or — if the crash hit the
execution itself — the card and the audit log say it was interrupted; nothing runs twice;
an approval that expired while the bot was down says so when clicked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.remediation.executor import INTERRUPTED
from bot.settings import DatabaseSettings
from bot.store.actions import ActionRecord
from bot.store.db import Database
from bot.store.models import utcnow
from sandbox.kube import KubeSandbox
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import approve_in_slack, workspace
from tests.conftest import drop_pg, fresh_pg_url
from tests.hardening.approval_rig import Rig, approval_rig


@pytest.fixture(scope="module")
def kube_server() -> Iterator[KubeSandbox]:
    with KubeSandbox(time_scale=10.0) as sandbox:
        yield sandbox


@pytest.fixture
def slack() -> Iterator[SlackWorkspace]:
    ws = workspace(post_message_rate=50.0, post_message_burst=50, update_rate=50.0, update_burst=50)
    yield ws
    ws.close()


@pytest.fixture
def rig(slack: SlackWorkspace, kube_server: KubeSandbox, tmp_path: Path) -> Iterator[Rig]:
    kube_server.reset()
    url = fresh_pg_url()
    Database(DatabaseSettings(url=url)).upgrade()
    with approval_rig(slack, kube_server, url, tmp_path) as prepared:
        yield prepared
    drop_pg(url)


def wait_for_state(rig: Rig, action_id: str, state: str, timeout: float = 20) -> None:
    rig.slack.wait_for(lambda: rig.record(action_id).state == state or None, timeout=timeout)


def test_a_pending_card_survives_sigkill_and_executes_once_when_approved_after_restart(
    rig: Rig,
) -> None:
    first = rig.bot()
    try:
        incident = rig.open_incident(first)
        action_id = rig.propose_restart(incident)
        card = rig.slack.wait_for(lambda: rig.card_says(action_id, "action_approve"))
        generation = rig.generation()
    finally:
        first.kill()
    second = rig.bot()
    try:
        approve_in_slack(rig.slack, "U0BOB", "incidents", str(card["ts"]))
        rig.slack.click_button("U0BOB", "incidents", str(card["ts"]), "action_approve")
        done = rig.slack.wait_for(lambda: rig.card_says(action_id, "Succeeded"), timeout=30)
        assert "<@U0BOB>" in str(done["blocks"])
        assert "action_approve" not in str(done["blocks"])
    finally:
        second.stop()
    assert rig.generation() == generation + 1
    assert rig.restarts() is not None
    audit = rig.audit_actions(action_id)
    assert audit.count("action.approved") == 1
    assert audit.count("action.applied") == 1
    assert audit[-1] == "action.succeeded"


def test_an_approval_that_expired_while_the_bot_was_down_says_expired_when_clicked(
    rig: Rig,
) -> None:
    first = rig.bot()
    try:
        incident = rig.open_incident(first)
        action_id = rig.propose_restart(incident)
        card = rig.slack.wait_for(lambda: rig.card_says(action_id, "action_approve"))
        generation = rig.generation()
    finally:
        first.kill()
    with rig.deps.db.session() as session:  # the clock moves past the expiry while down
        record = session.get(ActionRecord, action_id)
        assert record is not None
        record.expires_at = utcnow() - timedelta(seconds=1)
        session.add(record)
    second = rig.bot()
    try:
        rig.slack.click_button("U0BOB", "incidents", str(card["ts"]), "action_approve")
        rig.slack.wait_for(
            lambda: [e for e in rig.slack.ephemerals("U0BOB") if "expired" in e["text"]]
        )
        rig.slack.wait_for(lambda: rig.card_says(action_id, "Expired"), timeout=20)
    finally:
        second.stop()
    assert rig.record(action_id).state == "expired"
    assert rig.generation() == generation
    assert "action.expired" in rig.audit_actions(action_id)
    assert "action.applied" not in rig.audit_actions(action_id)


@pytest.mark.slow
def test_an_approval_accepted_just_before_a_sigkill_runs_once_after_restart(rig: Rig) -> None:
    first = rig.bot()
    try:
        incident = rig.open_incident(first)
        action_id = rig.propose_restart(incident)
        card = rig.slack.wait_for(lambda: rig.card_says(action_id, "action_approve"))
        generation = rig.generation()
        # The card edit after the approval hangs: the approval is committed, the action
        # not yet handed to the executor — the process dies right there.
        rig.slack.inject_failures("chat.update", status=200, delay_s=5)
        approve_in_slack(rig.slack, "U0BOB", "incidents", str(card["ts"]))
        wait_for_state(rig, action_id, "approved")
    finally:
        first.kill()
    assert rig.generation() == generation
    began = time.monotonic()
    second = rig.bot()
    try:
        rig.slack.wait_for(lambda: rig.card_says(action_id, "Succeeded"), timeout=60)
        recovered = time.monotonic() - began
        third = rig.bot()  # another start-up recovery pass finds nothing left to run
        third.stop()
    finally:
        second.stop()
    assert rig.generation() == generation + 1
    audit = rig.audit_actions(action_id)
    assert audit.count("action.approved") == 1
    assert audit.count("action.executing") == 1
    assert audit.count("action.applied") == 1
    print(f"approved→succeeded after restart: {recovered:.1f}s")


@pytest.mark.slow
def test_a_sigkill_during_execution_marks_the_action_interrupted_and_never_reruns_it(
    rig: Rig,
) -> None:
    first = rig.bot()
    try:
        incident = rig.open_incident(first)
        action_id = rig.propose_restart(incident)
        card = rig.slack.wait_for(lambda: rig.card_says(action_id, "action_approve"))
        generation = rig.generation()
        # Both card edits hang (after the approval, after the execution started): the
        # process dies once the record says EXECUTING, before the call to Kubernetes.
        rig.slack.inject_failures("chat.update", status=200, count=2, delay_s=5)
        approve_in_slack(rig.slack, "U0BOB", "incidents", str(card["ts"]))
        wait_for_state(rig, action_id, "executing")
    finally:
        first.kill()
    began = time.monotonic()
    second = rig.bot()
    try:
        shown = rig.slack.wait_for(lambda: rig.card_says(action_id, "Interrupted"), timeout=90)
        marked = time.monotonic() - began
        assert "action_approve" not in str(shown["blocks"])
    finally:
        second.stop()
    record = rig.record(action_id)
    assert record.state == "failed"
    assert record.outcome["lines"][0] == INTERRUPTED
    assert rig.generation() == generation  # it had not reached the cluster; not re-run
    audit = rig.audit_actions(action_id)
    assert audit.count("action.executing") == 1
    assert audit[-1] == "action.failed"
    print(f"executing→interrupted after restart: {marked:.1f}s")
