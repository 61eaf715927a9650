"""A rightsizing recommendation becomes a RISKY `set_resources` proposal without an
incident: a card in #incidents, approved only by an approver, executed as a strategic-merge
patch against the Kubernetes sandbox, validated by its rollout, and undone when the new
memory limit gets the pods OOMKilled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from sqlmodel import select

from bot.capacity.models import ContainerUsage, IdleKind, IdleResource
from bot.capacity.rightsizing import recommend
from bot.remediation.capacity_recommend import propose_capacity
from bot.remediation.records import ActionState
from bot.settings import CapacitySettings
from bot.store.actions import ActionRecord
from policies.quantities import MIB
from sandbox.kube import Fault, KubeSandbox
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, approve_in_slack, workspace
from tests.remediation.conftest import SITE_POLICY, remediation_bot

# prod/payments in the sandbox's default cluster: 2 replicas, requests 200m/256Mi, limit 512Mi.
PAYMENTS = ContainerUsage(
    namespace="prod",
    workload="payments",
    container="app",
    replicas=2,
    cpu_request=0.2,
    cpu_limit=None,
    memory_request=256 * MIB,
    memory_limit=512 * MIB,
    cpu_p95=0.03,
    cpu_max=0.04,
    memory_p95=140 * MIB,
    memory_max=150 * MIB,
    history_days=14.0,
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[KubeSandbox]:
    with KubeSandbox(time_scale=10.0) as sandbox:
        yield sandbox


@pytest.fixture
def kube(cluster: KubeSandbox) -> KubeSandbox:
    """The default cluster, freshly seeded, its clock at 10x."""
    cluster.reset()
    return cluster


@pytest.fixture
def slack() -> Iterator[SlackWorkspace]:
    ws = workspace(post_message_rate=50.0, post_message_burst=50, update_rate=50.0, update_burst=50)
    yield ws
    ws.close()


@pytest.fixture
def kubeconfig(kube: KubeSandbox, tmp_path: Path) -> Path:
    return kube.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "site-policy.yaml"
    path.write_text(SITE_POLICY)  # approvers: the S0ONCALL group (U0ALICE, U0BOB)
    return path


def top_level_card(slack: SlackWorkspace, action_id: str, text: str) -> dict[str, Any] | None:
    for message in slack.messages("incidents"):
        blocks = json.dumps(message.get("blocks", []))
        if action_id in blocks and text in blocks and not message.get("thread_ts"):
            return message
    return None


def state_of(bot: RunningBot, action_id: str) -> str:
    with bot.bot.deps.db.session() as session:
        record = session.get(ActionRecord, action_id)
        assert record is not None
        return record.state


def app_resources(kube: KubeSandbox) -> dict[str, dict[str, str]]:
    apps: Any = client.AppsV1Api(kube.api_client())
    found = apps.read_namespaced_deployment("payments", "prod")
    [container] = found.spec.template.spec.containers
    return {
        "requests": dict(container.resources.requests or {}),
        "limits": dict(container.resources.limits or {}),
    }


def test_set_resources_is_risky_needs_an_approver_and_is_rolled_out(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    rightsizing = recommend(PAYMENTS, CapacitySettings())
    assert rightsizing is not None
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=policy_file
    ) as bot:
        remediation = bot.bot.runtime.remediation
        review = propose_capacity(remediation, [rightsizing], [])
        [outcome] = review.outcomes
        assert (outcome.state, outcome.verdict, outcome.rule) == (
            ActionState.PENDING,
            "RISKY",
            "set-resources",
        )
        pending = slack.wait_for(lambda: top_level_card(slack, outcome.action_id, "action_approve"))
        text = json.dumps(pending["blocks"], ensure_ascii=False)
        assert "app: cpu 200m→40m, memory 256Mi→168Mi, memory limit 512Mi→225Mi" in text
        assert "prod/payments/app: cpu 200m→40m, memory 256Mi→168Mi, saves $" in text
        assert "2 pod(s), 2 replica(s), 100% of the workload" in text
        assert "proposed by the capacity review" in text

        refused = remediation.approve(outcome.action_id, "U0CAROL")  # not in S0ONCALL
        assert refused.refused
        assert "may not approve" in refused.message
        assert state_of(bot, outcome.action_id) == ActionState.PENDING
        assert app_resources(kube)["requests"] == {"cpu": "200m", "memory": "256Mi"}

        # Proposing the same review again does not repeat the open card.
        [again] = propose_capacity(remediation, [rightsizing], []).outcomes
        assert (again.action_id, again.note) == (outcome.action_id, "duplicate")

        approve_in_slack(slack, "U0BOB", "incidents", pending["ts"])
        done = slack.wait_for(
            lambda: top_level_card(slack, outcome.action_id, "Succeeded"), timeout=40
        )
        assert "rolled out" in json.dumps(done["blocks"])

    assert app_resources(kube) == {
        "requests": {"cpu": "40m", "memory": "168Mi"},
        "limits": {"memory": "225Mi"},
    }
    core: Any = client.CoreV1Api(kube.api_client())
    pods = core.list_namespaced_pod("prod", label_selector="app=payments").items
    assert len(pods) == 2
    assert {p.spec.containers[0].resources.requests["memory"] for p in pods} == {"168Mi"}
    with bot.bot.deps.db.session() as session:
        record = session.exec(select(ActionRecord).where(ActionRecord.id == outcome.action_id))
        params = record.one().action["params"]
    assert (params["previous_cpu_request"], params["previous_memory_limit"]) == ("200m", "512Mi")


def test_a_memory_limit_that_gets_pods_oomkilled_is_rolled_back(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    # The app really needs 300Mi: with any lower limit its containers are OOMKilled.
    kube.cluster.add_fault(
        Fault(
            kind="oom",
            namespace="prod",
            deployment="payments",
            memory_threshold="300Mi",
            after_seconds=5,
        )
    )
    rightsizing = recommend(PAYMENTS, CapacitySettings())
    assert rightsizing is not None
    with remediation_bot(
        slack,
        f"sqlite:///{tmp_path / 'bot.db'}",
        kubeconfig=kubeconfig,
        policy_file=policy_file,
        validation_hold_seconds=5.0,
        validation_deadline_seconds=40.0,
    ) as bot:
        remediation = bot.bot.runtime.remediation
        [outcome] = propose_capacity(remediation, [rightsizing], []).outcomes
        remediation.approve(outcome.action_id, "U0ALICE")
        done = slack.wait_for(
            lambda: top_level_card(slack, outcome.action_id, "Rolled back"), timeout=60
        )
        text = json.dumps(done["blocks"])
        assert "OOMKilled" in text
        assert "Undone" in text

    assert app_resources(kube) == {
        "requests": {"cpu": "200m", "memory": "256Mi"},
        "limits": {"memory": "512Mi"},
    }


def test_forbidden_and_empty_idle_recommendations_are_notes_not_proposals(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    idle = [
        IdleResource(IdleKind.SCALED_TO_ZERO, "staging", "old-api", None, "0 replicas for 20 d"),
        IdleResource(IdleKind.UNATTACHED_VOLUME, "prod", "old-data", None, "no pod mounts it"),
        IdleResource(IdleKind.IDLE_WORKLOAD, "prod", "payments", None, "CPU ~0 for 10 days"),
    ]
    staging = replace(PAYMENTS, namespace="kube-system", workload="coredns")
    rightsizing = recommend(staging, CapacitySettings())
    assert rightsizing is not None
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=policy_file
    ) as bot:
        review = propose_capacity(bot.bot.runtime.remediation, [rightsizing], idle)
        with bot.bot.deps.db.session() as session:
            recorded = session.exec(select(ActionRecord)).all()
    assert review.outcomes == ()
    assert recorded == []
    notes = "\n".join(review.notes)
    assert "staging/old-api: scaled to zero — nothing to propose" in notes
    assert "delete_pvc is FORBIDDEN here by rule delete-volume-claim" in notes
    assert "scale_deployment is FORBIDDEN here by rule default-deny" in notes
    assert "kube-system/coredns/app" in notes


def test_a_failed_job_is_deleted_at_once_in_staging_and_an_unattached_claim_after_approval(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    # The default cluster has a failed staging/nightly-export-28 and an unmounted
    # staging/old-reports-data claim.
    idle = [
        IdleResource(IdleKind.FAILED_JOB, "staging", "nightly-export-28", None, "failed 3 d ago"),
        IdleResource(
            IdleKind.UNATTACHED_VOLUME, "staging", "old-reports-data", None, "20Gi, unmounted"
        ),
    ]
    batch: Any = client.BatchV1Api(kube.api_client())
    core: Any = client.CoreV1Api(kube.api_client())
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=policy_file
    ) as bot:
        remediation = bot.bot.runtime.remediation
        job, claim = propose_capacity(remediation, [], idle).outcomes
        assert (job.verdict, job.rule, job.state) == ("SAFE", "delete-job-nonprod", "approved")
        assert (claim.verdict, claim.rule, claim.state) == (
            "RISKY",
            "delete-volume-claim-nonprod",
            ActionState.PENDING,
        )
        slack.wait_for(lambda: top_level_card(slack, job.action_id, "Succeeded"), timeout=30)
        names = [j.metadata.name for j in batch.list_namespaced_job("staging").items]
        assert "nightly-export-28" not in names

        remediation.approve(claim.action_id, "U0ALICE")
        slack.wait_for(lambda: top_level_card(slack, claim.action_id, "Succeeded"), timeout=30)
    claims = [
        c.metadata.name for c in core.list_namespaced_persistent_volume_claim("staging").items
    ]
    assert "old-reports-data" not in claims


def test_a_claim_a_pod_mounts_is_not_proposed_for_deletion(
    slack: SlackWorkspace,
    kube: KubeSandbox,
    kubeconfig: Path,
    policy_file: Path,
    tmp_path: Path,
) -> None:
    core: Any = client.CoreV1Api(kube.api_client())
    core.create_namespaced_pod(
        "staging",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "report-reader"},
            "spec": {
                "containers": [{"name": "reader", "image": "busybox:1.36"}],
                "volumes": [
                    {"name": "data", "persistentVolumeClaim": {"claimName": "old-reports-data"}}
                ],
            },
        },
    )
    stale = IdleResource(IdleKind.UNATTACHED_VOLUME, "staging", "old-reports-data", None, "")
    with remediation_bot(
        slack, f"sqlite:///{tmp_path / 'bot.db'}", kubeconfig=kubeconfig, policy_file=policy_file
    ) as bot:
        review = propose_capacity(bot.bot.runtime.remediation, [], [stale])
    assert review.outcomes == ()
    [note] = review.notes
    assert note.endswith("is mounted by pod report-reader")
    claims = core.list_namespaced_persistent_volume_claim("staging").items
    assert "old-reports-data" in [c.metadata.name for c in claims]
