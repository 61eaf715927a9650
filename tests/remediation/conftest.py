"""Fixtures for remediation: the Kubernetes sandbox (time at 10x), a kube-state-metrics
subset scraped by a real Prometheus, the local PagerDuty, a site policy naming approvers,
and the bot running against all of them with the Slack emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlmodel import col, select

from bot.incidents.alertmanager import label_fingerprint
from bot.store.incidents import Incident
from policies import ProposedAction
from sandbox.kube import KubeSandbox
from sandbox.pagerduty import PagerDutySandbox
from sandbox.procs.process import ManagedProcess
from sandbox.serve import ServerThread
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot, workspace
from tests.incidents.amfixtures import alert, webhook
from tests.remediation.kube_state_metrics import metrics_app, start_scraping_prometheus

SITE_POLICY = """
version: 1
defaults:
  approvers: [S0ONCALL]
"""
ROUTING_KEY = "R0UTINGKEY0123456789ABCDEFGHIJKL"
BAD_IMAGE = "registry.example.com/shop/checkout:1.9.0"
GOOD_IMAGE = "registry.example.com/shop/checkout:1.8.2"
STUCK_CHECKOUT = (
    '(sum(kube_deployment_status_replicas_unavailable{namespace="prod",deployment="checkout"})'
    ' + (sum(kube_pod_container_status_waiting_reason{namespace="prod",pod=~"checkout-.*"})'
    " or vector(0))) > 0"
)


@pytest.fixture
def slack() -> Iterator[SlackWorkspace]:
    """The Slack emulator with Slack's per-channel posting limits raised: these tests post
    many cards into one thread within a second, which is not what they are about."""
    ws = workspace(post_message_rate=50.0, post_message_burst=50, update_rate=50.0, update_burst=50)
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def kube_server() -> Iterator[KubeSandbox]:
    with KubeSandbox(time_scale=10.0) as sandbox:
        yield sandbox


@pytest.fixture
def kube(kube_server: KubeSandbox) -> KubeSandbox:
    """A freshly seeded default cluster, its clock running at 10x."""
    kube_server.reset()
    return kube_server


@pytest.fixture
def kubeconfig(kube: KubeSandbox, tmp_path: Path) -> Path:
    return kube.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture(scope="session")
def prometheus(kube_server: KubeSandbox) -> Iterator[ManagedProcess]:
    """Real Prometheus scraping the sandbox's kube-state-metrics every second."""
    exporter = ServerThread(metrics_app(kube_server.api_client())).start()
    process = start_scraping_prometheus(f"127.0.0.1:{exporter.port}")
    yield process
    process.stop()
    exporter.stop()


def promql(prometheus: ManagedProcess, expr: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": expr}, timeout=10).json()
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


@pytest.fixture
def pagerduty() -> Iterator[PagerDutySandbox]:
    with PagerDutySandbox() as server:
        yield server


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "site-policy.yaml"
    path.write_text(SITE_POLICY)
    return path


@contextmanager
def remediation_bot(
    slack: SlackWorkspace,
    database_url: str,
    *,
    kubeconfig: Path | None,
    policy_file: Path,
    prometheus_url: str | None = None,
    pagerduty: PagerDutySandbox | None = None,
    **remediation: Any,
) -> Iterator[RunningBot]:
    settings: dict[str, Any] = {
        "validation_deadline_seconds": 20.0,
        "validation_interval_seconds": 0.5,
        "validation_hold_seconds": 1.0,
        "breaker_cooldown_seconds": 600.0,
        **remediation,
    }
    if pagerduty is not None:
        settings.update(pagerduty_url=pagerduty.enqueue_url, pagerduty_routing_key=ROUTING_KEY)
    tools: dict[str, Any] = {"prometheus_url": prometheus_url}
    if kubeconfig is not None:
        tools["kubeconfig"] = str(kubeconfig)
    with running_bot(
        slack,
        database_url=database_url,
        tools=tools,
        remediation=settings,
        policy={"files": str(policy_file)},
    ) as running:
        yield running


def am_alert(name: str, labels: dict[str, str], summary: str = "") -> dict[str, Any]:
    """One firing alert as Alertmanager's webhook carries it."""
    raised = alert(name, datetime.now(UTC), summary=summary)
    raised["labels"].update(labels)
    raised["fingerprint"] = label_fingerprint(raised["labels"])
    return raised


def open_incident(
    bot: RunningBot, slack: SlackWorkspace, expr: str = STUCK_CHECKOUT, **labels: str
) -> int:
    """An Alertmanager webhook (as Prometheus' rule would send it) becomes an incident
    whose thread is open; returns the incident id."""
    raised = am_alert(
        labels.pop("alertname", "CheckoutPodsStuck"),
        {"namespace": "prod", "service": "checkout", "severity": "critical"} | labels,
        summary="checkout pods are stuck",
    )
    raised["generatorURL"] = f"http://prometheus:9090/graph?g0.expr={quote(expr)}&g0.tab=1"
    bot.bot.runtime.pipeline.accept(json.dumps(webhook(raised)).encode())

    def posted() -> int | None:
        with bot.bot.deps.db.session() as session:
            incident = session.exec(select(Incident).order_by(col(Incident.id).desc())).first()
            return incident.id if incident and incident.thread_ts else None

    return slack.wait_for(posted, timeout=15)


def proposal(
    kind: str,
    target: dict[str, Any],
    params: dict[str, Any] | None = None,
    *,
    proposer: str = "agent",
    confidence: float = 0.9,
    proposal_id: str = "p1",
) -> ProposedAction:
    return ProposedAction.model_validate(
        {
            "id": proposal_id,
            "kind": kind,
            "target": target,
            "params": params or {},
            "reason": f"{kind} should fix it",
            "proposer": proposer,
            "confidence": confidence,
            "blast_radius": {"pods_affected": 1, "workload_share": 0.1},
        }
    )


def deployment(name: str = "checkout", namespace: str = "prod") -> dict[str, str]:
    return {"kind": "deployment", "namespace": namespace, "name": name}
