"""The closed-loop world: the cluster's series follow what happens in it (the kube stand-in
serves them live), so an approved rollback of the bad-image scenario resolves its alerts in
Prometheus, the real Alertmanager sends the resolution, and the incident header resolves
by itself; the rollback stays."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client
from sqlmodel import col, select

from bot.remediation.deployments import RollbackDeployment
from bot.remediation.records import ActionState
from bot.store.actions import ActionRecord
from bot.store.incidents import Incident
from policies import ProposedAction
from sandbox.kube import KubeSandbox
from sandbox.scenarios.catalog import load_scenario
from sandbox.scenarios.cluster_history import play_cluster
from sandbox.scenarios.timeline import Timeline
from sandbox.world import World
from sandbox.world.live_metrics import LiveMetrics, newest_samples
from tests.botharness import RunningBot
from tests.scenarios.closed_loop import closed_loop

GOOD_IMAGE = "registry.example.com/shop/checkout:1.8.2"


def test_a_scrape_shows_the_series_of_the_last_moment_without_timestamps() -> None:
    text = (
        "# HELP a_total A.\n# TYPE a counter\n"
        'a_total{x="1"} 1 100\na_total{x="2"} 5 115\na_total{x="1"} 3 115\n'
        'a_total{x="gone"} 9 100\n'
        "# HELP h H.\n# TYPE h histogram\n"
        'h_bucket{le="+Inf"} 1 100\nh_sum 0.5 100\nh_count 1 100\n'
        'h_bucket{le="+Inf"} 4 115\nh_sum 2 115\nh_count 4 115\n# EOF\n'
    )
    assert newest_samples(text) == (
        "# HELP a_total A.\n# TYPE a counter\n"
        'a_total{x="1"} 3\na_total{x="2"} 5\n'
        "# HELP h H.\n# TYPE h histogram\n"
        'h_bucket{le="+Inf"} 4\nh_sum 2\nh_count 4\n# EOF\n'
    )


def _incident(bot: RunningBot) -> Incident | None:
    with bot.bot.deps.db.session() as session:
        found = session.exec(select(Incident).order_by(col(Incident.id))).first()
        return found if found is not None and found.thread_ts else None


def _rollback(bot: RunningBot) -> ActionRecord | None:
    with bot.bot.deps.db.session() as session:
        return session.exec(
            select(ActionRecord).where(ActionRecord.kind == "rollback_deployment")
        ).first()


def _proposal(incident_id: int) -> ProposedAction:
    return ProposedAction.model_validate(
        {
            "id": "closed-loop",
            "kind": "rollback_deployment",
            "target": {"kind": "deployment", "namespace": "prod", "name": "checkout"},
            "reason": "1.9.0 cannot be pulled",
            "proposer": "agent",
            "confidence": 0.9,
            "blast_radius": {"pods_affected": 1, "workload_share": 0.3},
            "incident_id": str(incident_id),
        }
    )


def _checkout_image(world: World) -> str:
    apps: Any = client.AppsV1Api(world.kube.api_client())
    deployment = apps.read_namespaced_deployment("checkout", "prod")
    return str(deployment.spec.template.spec.containers[0].image)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_an_approved_rollback_of_a_bad_image_stays_and_the_alert_resolves_itself(
    tmp_path: Path,
) -> None:
    remediation = {
        "validation_deadline_seconds": 180.0,
        "validation_interval_seconds": 3.0,
        "validation_hold_seconds": 15.0,
    }
    with closed_loop(tmp_path, every_backend=False, remediation=remediation) as loop:
        world, bot, slack = loop.world, loop.bot, loop.slack
        world.run_scenario("bad-image")
        incident = slack.wait_for(lambda: _incident(bot), timeout=120)
        assert incident.id is not None
        record = _rollback(bot)
        if record is None:  # the investigation may not have proposed it (yet)
            bot.bot.runtime.remediation.propose(
                incident.id, [_proposal(incident.id)], "checkout 1.9.0 cannot pull"
            )
            record = slack.wait_for(lambda: _rollback(bot), timeout=30)
        assert record.state == ActionState.PENDING
        bot.bot.runtime.remediation.approve(record.id, "U0BOB")

        def finished() -> str | None:
            found = _rollback(bot)
            state = found.state if found is not None else ""
            return state if ActionState(state).terminal else None

        assert slack.wait_for(finished, timeout=300) == ActionState.SUCCEEDED

        def resolved() -> Incident | None:
            with bot.bot.deps.db.session() as session:
                found = session.get(Incident, incident.id)
                return found if found is not None and found.status == "resolved" else None

        assert slack.wait_for(resolved, timeout=120)
        header = next(m for m in slack.messages("incidents") if m["ts"] == incident.thread_ts)
        slack.wait_for(lambda: "Resolved" in json.dumps(header.get("blocks", [])), timeout=30)
        active = httpx.get(f"{world.urls.alertmanager}/api/v2/alerts", timeout=10).json()
        assert [a for a in active if a["status"]["state"] == "active"] == []
        time.sleep(10)  # nothing undoes it afterwards
        assert _checkout_image(world) == GOOD_IMAGE
        final = _rollback(bot)
        assert final is not None
        assert final.state == ActionState.SUCCEEDED


def _series(text: str, name: str, **labels: str) -> list[str]:
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return [
        line
        for line in text.splitlines()
        if line.startswith(name + "{") and all(w in line for w in wanted)
    ]


def test_the_kube_stand_in_serves_series_that_follow_a_rollback() -> None:
    scenario = load_scenario("bad-image")
    timeline = Timeline.ending_now(incident_ago=scenario.spec.incident.started_ago, horizon=0)
    with KubeSandbox(None, auto_advance=False) as kube:
        history = play_cluster(kube, scenario, timeline)
        clock = kube.cluster.now
        kube.metrics = LiveMetrics(
            scenario, history, timeline, kube, clock=lambda: clock().timestamp()
        )
        during = httpx.get(f"{kube.url}/metrics", timeout=60)
        assert during.headers["content-type"].startswith("application/openmetrics-text")
        stuck = _series(during.text, "kube_pod_status_phase", phase="Pending")
        assert [line for line in stuck if line.endswith(" 1")]
        assert _series(
            during.text, "kube_deployment_status_condition", deployment="checkout", status="false"
        )[0].endswith(" 1")
        apps: Any = client.AppsV1Api(kube.api_client())
        plan = RollbackDeployment(kube.api_client()).plan(_proposal(1))
        RollbackDeployment(kube.api_client()).call(plan, dry_run=False)
        kube.cluster.advance(60, step=5)
        assert apps.read_namespaced_deployment("checkout", "prod").status.available_replicas == 3
        after = httpx.get(f"{kube.url}/metrics", timeout=60).text
        pending = _series(after, "kube_pod_status_phase", phase="Pending", namespace="prod")
        assert pending
        assert all(line.endswith(" 0") for line in pending)
        assert _series(
            after, "kube_deployment_status_condition", deployment="checkout", status="false"
        )[0].endswith(" 0")
        assert "# EOF" in after
        kube.metrics = None
        assert httpx.get(f"{kube.url}/metrics", timeout=10).status_code == 404
