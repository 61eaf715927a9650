"""The weekly capacity review: the running bot posts the capacity digest (28 days of real
Prometheus history, the shop cluster in the Kubernetes stand-in) and proposes its
recommendations through the policies, each card in the digest's thread, never at the top of
#incidents: rightsizing prod/payments waits for an approver (RISKY), the failed staging job
is deleted at once (SAFE outside prod), prod/checkout needs nothing; a second run repeats no
card; approving (an approver only) or denying in the thread acts on the cluster as the
decision says and the card there follows; with OPSBOT_CAPACITY_PROPOSE off, no card."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from sqlmodel import col, select

from bot.remediation.records import ActionState
from bot.store.actions import ActionRecord
from sandbox.capacity import start_capacity_prometheus
from sandbox.kube import KubeSandbox
from tests.botharness import approve_in_slack
from tests.capacity.capacity_slack import (
    DIGEST_CHANNEL,
    SHOP_SEED,
    Backends,
    CapacityBot,
    capacity_bot,
    minute_now,
)
from tests.remediation.conftest import SITE_POLICY

PAYMENTS = "deployment/prod/payments"
FAILED_JOB = "job/staging/nightly-export-28"
REMEDIATION = {
    "validation_deadline_seconds": 40.0,
    "validation_interval_seconds": 0.5,
    "validation_hold_seconds": 1.0,
}
Json = dict[str, Any]


@dataclass
class Review:
    world: CapacityBot
    kube: KubeSandbox
    digest_ts: str


@pytest.fixture(scope="module")
def now() -> datetime:
    return minute_now()


@pytest.fixture(scope="module")
def prometheus_url(now: datetime) -> Iterator[str]:
    with start_capacity_prometheus(now) as prometheus:
        yield prometheus.url


def started(
    home: Path, prometheus_url: str, kube: KubeSandbox, now: datetime, **capacity: Any
) -> AbstractContextManager[CapacityBot]:
    """The bot with the site policy, reading the capacity history and `kube`."""
    (home / "site-policy.yaml").write_text(SITE_POLICY)  # approvers: S0ONCALL (ALICE, BOB)
    backends = Backends(prometheus_url, kube.write_kubeconfig(home / "kubeconfig"))
    return capacity_bot(
        home,
        backends,
        now,
        policy={"files": str(home / "site-policy.yaml")},
        remediation=REMEDIATION,
        capacity={"enabled": False, **capacity},  # no forecast scan: only the review acts
    )


@pytest.fixture(scope="module")
def review(
    prometheus_url: str, now: datetime, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Review]:
    """The bot after the first weekly digest run; the shop cluster's clock runs at 10x so
    rollouts finish."""
    home = tmp_path_factory.mktemp("capacity-review")
    with (
        KubeSandbox(SHOP_SEED, time_scale=10.0, start=now) as kube,
        started(home, prometheus_url, kube, now) as world,
    ):
        run = world.bot.bot.runtime.digests.run("capacity", now)
        assert run.status == "posted", run.error
        yield Review(world, kube, run.ts or "")


def records(world: CapacityBot) -> list[ActionRecord]:
    with world.bot.bot.deps.db.session() as session:
        return list(session.exec(select(ActionRecord).order_by(col(ActionRecord.created_at))))


def record_for(world: CapacityBot, target: str) -> ActionRecord:
    [found] = [r for r in records(world) if r.target == target]
    return found


def card_in_thread(world: CapacityBot, thread_ts: str, action_id: str, text: str) -> Json | None:
    for message in world.slack.thread(DIGEST_CHANNEL, thread_ts):
        blocks = json.dumps(message.get("blocks", []), ensure_ascii=False)
        if message.get("thread_ts") == thread_ts and action_id in blocks and text in blocks:
            return message
    return None


def cards_anywhere_else(world: CapacityBot) -> list[Json]:
    """Approval cards at the top level of #incidents or of the digest channel."""
    top = world.slack.messages("incidents") + world.slack.messages(DIGEST_CHANNEL)
    return [m for m in top if "action_approve" in json.dumps(m.get("blocks", []))]


def payments_resources(kube: KubeSandbox) -> Json:
    apps: Any = client.AppsV1Api(kube.api_client())
    [container] = apps.read_namespaced_deployment("payments", "prod").spec.template.spec.containers
    return {
        "requests": dict(container.resources.requests or {}),
        "limits": dict(container.resources.limits or {}),
    }


def test_the_digest_proposes_its_recommendations_as_cards_in_its_own_thread(
    review: Review,
) -> None:
    world, ts = review.world, review.digest_ts
    payments = record_for(world, PAYMENTS)
    assert (payments.kind, payments.verdict, payments.state) == (
        "set_resources",
        "RISKY",
        ActionState.PENDING,
    )
    assert (payments.incident_id, payments.thread_ts) == (None, ts)
    card = world.slack.wait_for(lambda: card_in_thread(world, ts, payments.id, "action_approve"))
    text = json.dumps(card["blocks"], ensure_ascii=False)
    assert "prod/payments/app: cpu 500m→" in text
    assert "saves $" in text
    assert "RISKY" in text

    job = record_for(world, FAILED_JOB)
    assert (job.kind, job.verdict, job.rule) == ("delete_job", "SAFE", "delete-job-nonprod")
    world.slack.wait_for(lambda: card_in_thread(world, ts, job.id, "Succeeded"), timeout=30)
    batch: Any = client.BatchV1Api(review.kube.api_client())
    assert "nightly-export-28" not in [
        j.metadata.name for j in batch.list_namespaced_job("staging").items
    ]

    assert not [r for r in records(world) if "prod/checkout" in r.target]
    assert cards_anywhere_else(world) == []
    summary = world.slack.wait_for(
        lambda: [
            m for m in world.slack.thread(DIGEST_CHANNEL, ts) if "Capacity proposals" in m["text"]
        ]
    )
    assert "waiting for approval" in summary[0]["text"]
    assert "staging/old-api: scaled to zero — nothing to propose" in summary[0]["text"]
    # The SAFE job deletion ran by itself: the summary follows it to "done", edited in place.
    done = world.slack.wait_for(
        lambda: [
            m
            for m in world.slack.thread(DIGEST_CHANNEL, ts)
            if m["ts"] == summary[0]["ts"] and "1 done" in m["text"]
        ],
        timeout=30,
    )
    assert "running now" not in done[0]["text"]
    assert "started" not in done[0]["text"]
    assert {(r.incident_id, r.thread_channel, r.thread_ts) for r in records(world)} == {
        (None, world.slack.channel_id(DIGEST_CHANNEL), ts)
    }


def test_a_second_weekly_run_repeats_no_open_card(review: Review) -> None:
    world = review.world
    before = [(r.id, r.state) for r in records(world)]
    run = world.bot.bot.runtime.digests.run("capacity", world.now)
    assert run.status == "posted", run.error
    thread = world.slack.wait_for(
        lambda: [
            m
            for m in world.slack.thread(DIGEST_CHANNEL, run.ts or "")
            if "Capacity proposals" in m["text"]
        ]
    )
    assert "still open from an earlier review" in thread[0]["text"]
    assert [(r.id, r.state) for r in records(world)] == before
    again = world.slack.thread(DIGEST_CHANNEL, run.ts or "")
    assert not [m for m in again if "action_approve" in json.dumps(m.get("blocks", []))]


def test_only_an_approver_can_approve_the_card_in_the_thread_and_it_runs_on_the_cluster(
    review: Review,
) -> None:
    world, ts, slack = review.world, review.digest_ts, review.world.slack
    payments = record_for(world, PAYMENTS)
    card = slack.wait_for(lambda: card_in_thread(world, ts, payments.id, "action_approve"))

    slack.click_button("U0CAROL", DIGEST_CHANNEL, card["ts"], "action_approve")
    slack.wait_for(
        lambda: [e for e in slack.ephemerals("U0CAROL") if "may not approve" in e["text"]]
    )
    assert slack.open_view("U0CAROL") is None  # refused before any dialog
    assert record_for(world, PAYMENTS).state == ActionState.PENDING
    assert payments_resources(review.kube)["requests"] == {"cpu": "500m", "memory": "512Mi"}

    approve_in_slack(slack, "U0BOB", DIGEST_CHANNEL, card["ts"])
    done = slack.wait_for(lambda: card_in_thread(world, ts, payments.id, "Succeeded"), timeout=60)
    assert done["ts"] == card["ts"]  # the same card, edited in place in the thread
    assert "U0BOB" in json.dumps(done["blocks"])
    params = record_for(world, PAYMENTS).action["params"]
    assert payments_resources(review.kube) == {
        "requests": {"cpu": params["cpu_request"], "memory": params["memory_request"]},
        "limits": {"memory": params["memory_limit"]},
    }
    assert cards_anywhere_else(world) == []


def test_with_proposals_turned_off_the_digest_posts_no_cards(
    prometheus_url: str, now: datetime, tmp_path: Path
) -> None:
    with (
        KubeSandbox(SHOP_SEED, time_scale=10.0, start=now) as kube,
        started(tmp_path, prometheus_url, kube, now, propose=False) as world,
    ):
        run = world.bot.bot.runtime.digests.run("capacity", now)
        assert run.status == "posted", run.error
        assert records(world) == []
        thread = world.slack.thread(DIGEST_CHANNEL, run.ts or "")
    assert [f["name"] for m in thread for f in m.get("files", [])]  # the digest itself is whole
    assert not [m for m in thread if "Capacity proposals" in m.get("text", "")]
    assert not [m for m in thread if "action_approve" in json.dumps(m.get("blocks", []))]


def test_denying_a_card_in_the_thread_keeps_the_claim_and_the_card_says_why(
    review: Review,
) -> None:
    world, ts, slack = review.world, review.digest_ts, review.world.slack
    claim = record_for(world, "persistentvolumeclaim/staging/old-reports-data")
    assert (claim.verdict, claim.state) == ("RISKY", ActionState.PENDING)
    card = slack.wait_for(lambda: card_in_thread(world, ts, claim.id, "action_deny"))
    slack.click_button("U0ALICE", DIGEST_CHANNEL, card["ts"], "action_deny")
    modal = slack.wait_for(lambda: slack.open_view("U0ALICE"))
    slack.submit_view(
        "U0ALICE", modal["id"], {"deny_reason": {"action_deny_reason": "reports team wants it"}}
    )
    denied = slack.wait_for(lambda: card_in_thread(world, ts, claim.id, "reports team wants it"))
    assert denied["ts"] == card["ts"]
    assert record_for(world, claim.target).state == ActionState.DENIED
    core: Any = client.CoreV1Api(review.kube.api_client())
    claims = core.list_namespaced_persistent_volume_claim("staging").items
    assert "old-reports-data" in [c.metadata.name for c in claims]
