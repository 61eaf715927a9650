"""A real `opsbot run` with remediation wired to the Kubernetes sandbox and a site policy
naming approvers, plus a proposer in the test process (the agent of another replica) that
records a RISKY proposal and posts its card into the incident's thread."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from kubernetes import client
from sqlmodel import col, select

from bot.app.runtime import build_remediation
from bot.deps import Deps, build_deps
from bot.remediation.service import Remediation
from bot.settings import load_settings
from bot.slack.app import build_client
from bot.store.actions import ActionRecord
from bot.store.incidents import Incident
from bot.store.models import AuditEvent
from sandbox.kube import KubeSandbox
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import SIGNING_SECRET
from tests.botprocess import BotProcess
from tests.conftest import REDIS_URL
from tests.incidents.amfixtures import webhook
from tests.remediation.conftest import SITE_POLICY, am_alert, deployment, proposal


@dataclass
class Rig:
    slack: SlackWorkspace
    kube: KubeSandbox
    env: dict[str, str]
    workdir: Path
    deps: Deps
    proposer: Remediation

    def bot(self) -> BotProcess:
        """A new bot process, started, receiving the workspace's clicks."""
        process = BotProcess(self.slack, self.workdir, **self.env).start()
        self.slack.configure(bot_url=f"{process.url}/slack/events")
        return process

    def open_incident(self, bot: BotProcess, service: str = "payments") -> int:
        raised = am_alert(
            "PodsStuck",
            {"namespace": "prod", "service": service, "severity": "critical"},
            summary=f"{service} pods are stuck",
        )
        response = httpx.post(f"{bot.url}/alertmanager", json=webhook(raised), timeout=10)
        assert response.status_code == 200

        def posted() -> int | None:
            with self.deps.db.session() as session:
                found = session.exec(select(Incident).where(Incident.service == service)).first()
                return found.id if found and found.thread_ts else None

        return self.slack.wait_for(posted, timeout=20)

    def propose_restart(self, incident_id: int, name: str = "payments") -> str:
        [outcome] = self.proposer.propose(
            incident_id,
            [proposal("restart_deployment", deployment(name), proposal_id=uuid.uuid4().hex[:8])],
            f"restart {name}",
        )
        assert outcome.verdict == "RISKY"
        assert outcome.state == "pending"
        return outcome.action_id

    def record(self, action_id: str) -> ActionRecord:
        with self.deps.db.session() as session:
            found = session.get(ActionRecord, action_id, populate_existing=True)
        assert found is not None
        return found

    def audit_actions(self, action_id: str) -> list[str]:
        with self.deps.db.session() as session:
            return [
                e.action
                for e in session.exec(
                    select(AuditEvent)
                    .where(AuditEvent.subject == f"action:{action_id}")
                    .order_by(col(AuditEvent.id))
                )
            ]

    def card(self, action_id: str) -> dict[str, Any] | None:
        for message in self.slack.messages("incidents"):
            for reply in self.slack.thread("incidents", message["ts"]):
                if action_id in json.dumps(reply.get("blocks", [])):
                    return reply
        return None

    def card_says(self, action_id: str, text: str) -> dict[str, Any] | None:
        found = self.card(action_id)
        return found if found and text in json.dumps(found["blocks"]) else None

    def restarts(self, name: str = "payments") -> str | None:
        """The restartedAt stamp of the deployment's pod template (a restart's one change)."""
        apps: Any = client.AppsV1Api(self.kube.api_client())
        found = apps.read_namespaced_deployment(name, "prod")
        annotations = found.spec.template.metadata.annotations or {}
        stamp: str | None = annotations.get("kubectl.kubernetes.io/restartedAt")
        return stamp

    def generation(self, name: str = "payments") -> int:
        apps: Any = client.AppsV1Api(self.kube.api_client())
        return int(apps.read_namespaced_deployment(name, "prod").metadata.generation)


@contextmanager
def approval_rig(
    slack: SlackWorkspace, kube: KubeSandbox, pg_url: str, workdir: Path
) -> Iterator[Rig]:
    policy = workdir / "site-policy.yaml"
    policy.write_text(SITE_POLICY)
    kubeconfig = kube.write_kubeconfig(workdir / "kubeconfig")
    env = {
        "OPSBOT_DATABASE_URL": pg_url,
        "OPSBOT_REDIS_URL": REDIS_URL,
        "OPSBOT_REDIS_KEY_PREFIX": f"opsbot-hardening-{uuid.uuid4().hex[:8]}:",
        "OPSBOT_KUBECONFIG": str(kubeconfig),
        "OPSBOT_POLICY_FILES": str(policy),
        "OPSBOT_REMEDIATION_VALIDATION_DEADLINE_SECONDS": "20",
        "OPSBOT_REMEDIATION_VALIDATION_INTERVAL_SECONDS": "0.5",
        "OPSBOT_REMEDIATION_VALIDATION_HOLD_SECONDS": "1",
    }
    settings = load_settings(
        slack={
            "bot_token": slack.config.bot_token,
            "signing_secret": SIGNING_SECRET,
            "api_url": slack.api_url,
        },
        database={"url": pg_url},
        tools={"kubeconfig": str(kubeconfig)},
        policy={"files": str(policy)},
    )
    deps = build_deps(settings, migrate=False)
    try:
        yield Rig(
            slack,
            kube,
            env,
            workdir,
            deps,
            build_remediation(deps, build_client(deps.settings.slack, deps.db)),
        )
    finally:
        deps.close()
