"""Three real replicas behind one address (a layer-4 balancer), sharing PostgreSQL and Redis,
in Slack HTTP mode: duplicated webhooks open one thread per incident; one Approve click
delivered to several replicas at once (and double clicks) executes once; a fast digest
schedule runs exactly once per fire time across the replicas."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from sqlmodel import col, select

from bot.settings import DatabaseSettings, DigestSettings
from bot.store.db import Database
from bot.store.incidents import Incident
from bot.store.models import ProcessedKey
from sandbox.kube import KubeSandbox
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import workspace
from tests.hardening.alertstorm import (
    StormSender,
    fingerprints,
    stored_fingerprints,
    storm_bodies,
    storm_settled,
)
from tests.hardening.approval_rig import Rig, approval_rig
from tests.hardening.replicas import replica_set

PROBLEMS = ["checkout", "payments", "search"]
REPLICAS = 3


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
    from tests.conftest import drop_pg, fresh_pg_url

    kube_server.reset()
    url = fresh_pg_url()
    Database(DatabaseSettings(url=url)).upgrade()
    with approval_rig(slack, kube_server, url, tmp_path) as prepared:
        yield prepared
    drop_pg(url)


def headers_in(slack: SlackWorkspace) -> list[dict[str, object]]:
    return [m for m in slack.messages("incidents") if m.get("bot_id")]


@pytest.mark.slow  # three processes and a kube sandbox: ~40-80 s on a shared machine
def test_three_replicas_open_one_thread_per_incident_and_run_one_approval_once(
    rig: Rig, tmp_path: Path
) -> None:
    slack = rig.slack
    with replica_set(slack, tmp_path, REPLICAS, **rig.env) as replicas:
        bodies = storm_bodies(PROBLEMS, 30)
        # Two Alertmanager peers (an HA pair) send every notification: each body twice.
        sender = StormSender(f"{replicas.url}/alertmanager", bodies + bodies, threads=6)
        sender.start().join()
        assert sorted(sender.accepted) == list(range(len(bodies) * 2))
        assert set(sender.statuses) == {200}
        assert all(replicas.balancer.connections[("127.0.0.1", p.port)] for p in replicas.processes)
        db = rig.deps.db
        slack.wait_for(lambda: storm_settled(db) or None, timeout=40)
        assert stored_fingerprints(db) == fingerprints(bodies)
        with db.session() as session:
            incidents = session.exec(select(Incident)).all()
        assert sorted(i.service for i in incidents) == PROBLEMS
        assert {str(m["ts"]) for m in headers_in(slack)} == {i.thread_ts for i in incidents}

        payments = next(i.id for i in incidents if i.service == "payments")
        assert payments is not None
        action_id = rig.propose_restart(payments)
        card = slack.wait_for(lambda: rig.card_says(action_id, "action_approve"))
        generation = rig.generation()
        # Approve opens the confirmation modal; capture its submission as Slack would
        # deliver it, then deliver it ourselves, all at once: the same signed request to two
        # replicas (a duplicate delivery), and fresh signatures of it (double submits) to
        # every replica and through the balancer.
        slack.click_button("U0BOB", "incidents", str(card["ts"]), "action_approve")
        modal = slack.wait_for(lambda: slack.open_view("U0BOB"), timeout=10)
        slack.configure(bot_url=None)
        slack.submit_view("U0BOB", str(modal["id"]))
        payload = slack.deliveries("interactive")[-1].request
        assert payload["type"] == "view_submission"
        slack.configure(bot_url=replicas.slack_events_url())
        body = urlencode({"payload": json.dumps(payload)}).encode()
        now = int(time.time())
        same = slack.signed_headers(body, timestamp=now)
        deliveries = [(p.url, same) for p in replicas.processes[:2]] + [
            (url, slack.signed_headers(body, timestamp=now - 1 - n))
            for n, url in enumerate([p.url for p in replicas.processes] + [replicas.url])
        ]
        barrier = threading.Barrier(len(deliveries))

        def deliver(target: tuple[str, dict[str, str]]) -> int:
            barrier.wait()
            url, headers = target
            return httpx.post(
                f"{url}/slack/events", content=body, headers=headers, timeout=10
            ).status_code

        with ThreadPoolExecutor(len(deliveries)) as pool:
            statuses = list(pool.map(deliver, deliveries))
        assert sorted(statuses[:2]) == [200, 401]  # the replayed signature is refused
        assert statuses[2:] == [200] * (len(deliveries) - 2)
        slack.wait_for(lambda: rig.card_says(action_id, "Succeeded"), timeout=30)
        accepted = statuses.count(200)
        replies = ephemerals_to(slack, "U0BOB", accepted)
    assert rig.generation() == generation + 1
    audit = rig.audit_actions(action_id)
    assert audit.count("action.approved") == 1
    assert audit.count("action.applied") == 1
    assert len(replies) == accepted  # every accepted click was answered
    texts = [r["text"] for r in replies]
    print(f"balancer connections: {dict(replicas.balancer.connections)}; clicks: {statuses}")
    print(f"click replies: {texts}")
    assert sum(t.startswith("Approved. opsbot runs it now") for t in texts) == 1


def ephemerals_to(slack: SlackWorkspace, user: str, count: int) -> list[dict[str, str]]:
    deadline = time.monotonic() + 20
    while len(slack.ephemerals(user)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    found: list[dict[str, str]] = slack.ephemerals(user)
    return found


def digest_env() -> dict[str, str]:
    """Only the incident digest, every 5 seconds (crontab with a leading seconds field)."""
    env = {
        f"OPSBOT_DIGEST_{name.upper()}": ""
        for name in DigestSettings.model_fields
        if name.endswith("_schedule")
    }
    env["OPSBOT_DIGEST_INCIDENTS_SCHEDULE"] = "*/5 * * * * *"
    return env


def cron_claims(db: Database) -> list[datetime]:
    with db.session() as session:
        keys = session.exec(
            select(ProcessedKey.key).where(
                ProcessedKey.scope == "cron", col(ProcessedKey.key).startswith("digest:incidents@")
            )
        ).all()
    return sorted(datetime.fromisoformat(k.split("@", 1)[1]) for k in keys)


@pytest.mark.slow
def test_a_fast_digest_schedule_runs_once_per_fire_time_across_three_replicas(
    rig: Rig, tmp_path: Path
) -> None:
    slack = rig.slack
    db = rig.deps.db

    def digests() -> list[dict[str, object]]:
        return [m for m in slack.messages("ops-digest") if m.get("bot_id")]

    with replica_set(slack, tmp_path, REPLICAS, **rig.env, **digest_env()):
        time.sleep(30)
        # Between two fire times every claimed run has posted: compare then.
        slack.wait_for(lambda: len(digests()) == len(cron_claims(db)) or None, timeout=10)
        posts, claims = len(digests()), cron_claims(db)
    assert len(claims) >= 4
    assert posts == len(claims)
    gaps = {(later - earlier).total_seconds() for earlier, later in itertools.pairwise(claims)}
    assert gaps == {5.0}  # every fire time ran, none twice (claims are unique per fire time)
    print(f"digest fire times: {len(claims)}, posts: {posts}")
