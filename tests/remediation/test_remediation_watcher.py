"""The self-healing watcher: Kubernetes watch streams open incidents without waiting for
Alertmanager, share them with Alertmanager's alerts for the same workload, resume from
the stored resourceVersion, and run on one replica at a time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.store.actions import WatchCursor
from bot.store.incidents import Alert, Incident
from sandbox.kube import Fault, KubeSandbox
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot
from tests.incidents.amfixtures import alert, webhook
from tests.remediation.conftest import remediation_bot
from tests.remediation.test_remediation_kill_switch import second_replica

WATCHER: dict[str, Any] = {"watcher_enabled": True, "watch_timeout_seconds": 2}


def incidents(bot: RunningBot) -> list[Incident]:
    with bot.bot.deps.db.session() as session:
        return list(session.exec(select(Incident)).all())


def alerts_of(bot: RunningBot, incident_id: int | None) -> list[Alert]:
    with bot.bot.deps.db.session() as session:
        return list(session.exec(select(Alert).where(Alert.incident_id == incident_id)).all())


def crash(kube: KubeSandbox, deployment: str) -> None:
    kube.cluster.add_fault(
        Fault(kind="crash", namespace="prod", deployment=deployment, after_seconds=2)
    )


def test_a_crash_looping_workload_opens_one_incident_that_alertmanager_joins(
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
        **WATCHER,
    ) as bot:
        crash(kube, "payments")
        [incident] = slack.wait_for(lambda: incidents(bot), timeout=30)
        assert incident.key == "workload:prod/payments"
        slack.wait_for(lambda: len(alerts_of(bot, incident.id)) == 2, timeout=30)
        watched = alerts_of(bot, incident.id)
        assert {a.name for a in watched} == {"KubePodCrashLooping"}
        assert {a.labels["deployment"] for a in watched} == {"payments"}
        slack.wait_for(
            lambda: [m for m in slack.messages("incidents") if "payments" in m.get("text", "")],
            timeout=10,
        )

        body = webhook(
            alert(
                "PaymentsErrorRate",
                datetime.now(UTC),
                namespace="prod",
                service="payments",
                severity="critical",
            )
        )
        bot.bot.runtime.pipeline.accept(json.dumps(body).encode())
        slack.wait_for(lambda: len(alerts_of(bot, incident.id)) == 3, timeout=10)
        assert len(incidents(bot)) == 1


def test_the_watcher_resumes_from_its_cursor_and_relists_when_it_expired(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with remediation_bot(
        slack, url, kubeconfig=kubeconfig, policy_file=policy_file, **WATCHER
    ) as bot:
        cursor = slack.wait_for(lambda: _cursor(bot, "pods"), timeout=10)
    # Down for a while: a workload starts crashing meanwhile.
    crash(kube, "checkout")
    with remediation_bot(
        slack, url, kubeconfig=kubeconfig, policy_file=policy_file, **WATCHER
    ) as bot:
        [incident] = slack.wait_for(lambda: incidents(bot), timeout=30)
        assert incident.key == "workload:prod/checkout"
        assert int(slack.wait_for(lambda: _newer(bot, "pods", cursor), timeout=10)) > int(cursor)
        watcher = bot.bot.runtime.remediation.watcher
        assert watcher is not None
        assert watcher.relists["pods"] == 0  # resumed from the stored resourceVersion

    # A cursor the API server has compacted away answers 410: the watcher relists.
    with bot.bot.deps.db.session() as session:
        row = session.get(WatchCursor, "deployments")
        assert row is not None
        row.resource_version = "1"
        session.add(row)
    with remediation_bot(
        slack, url, kubeconfig=kubeconfig, policy_file=policy_file, **WATCHER
    ) as bot:
        slack.wait_for(lambda: _newer(bot, "deployments", "1"), timeout=15)
        watcher = bot.bot.runtime.remediation.watcher
        assert watcher is not None
        assert (watcher.relists["deployments"], watcher.relists["pods"]) == (1, 0)
        assert len(incidents(bot)) == 1


def test_only_one_replica_watches_each_stream(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with (
        remediation_bot(
            slack, url, kubeconfig=kubeconfig, policy_file=policy_file, **WATCHER
        ) as bot,
        second_replica(bot.bot) as replica,
    ):
        first, second = bot.bot.runtime.remediation.watcher, replica.runtime.remediation.watcher
        assert first is not None
        assert second is not None

        def settled() -> bool:
            held = [first.holding, second.holding]
            return sorted(held[0] | held[1]) == ["deployments", "nodes", "pods"] and not (
                held[0] & held[1]
            )

        assert slack.wait_for(settled, timeout=15)


def _cursor(bot: RunningBot, name: str) -> str | None:
    with bot.bot.deps.db.session() as session:
        row = session.get(WatchCursor, name)
        return row.resource_version if row else None


def _newer(bot: RunningBot, name: str, than: str) -> str | None:
    now = _cursor(bot, name)
    return now if now is not None and int(now) > int(than) else None
