"""The forecast scan on its crontab in the running bot (the bot's own scheduler fires it),
the scale_deployment proposal for a workload forecast to cross its memory limit with its
policy verdict, and a node disk that fills: no action, but concrete advice in the incident."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.capacity.forecasts import ForecastScan
from bot.capacity.models import Exhaustion, Forecast, ForecastPoint, Metric, ResourceRef, Scope
from bot.incidents.proactive import JOB
from bot.incidents.proactive_alert import node_disk_advice
from bot.investigation.agent.proposals import make_action
from bot.store.actions import ActionRecord
from policies import ActionKind, EvaluationContext, evaluate, load_policy
from policies.decision import Verdict
from sandbox.capacity import start_capacity_prometheus
from sandbox.kube import KubeSandbox, read_seed
from sandbox.procs.prometheus import PrometheusProcess
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot, workspace
from tests.capacity.capacity_prometheus import CAPACITY_NOW
from tools.config import PrometheusConfig
from tools.metrics.api import PrometheusApi

GIB = 1024.0**3
MIB = 1024.0**2
DEV_POLICY = Path(__file__).parents[2] / "bot" / "cli" / "dev_policy.yaml"
SHOP_SEED = Path(__file__).parents[2] / "sandbox" / "scenarios" / "shop-cluster.yaml"
ROUTING = """
reopen_window: 1h
grouping:
  - {name: workload, key: [namespace, workload]}
notify: []
mute: []
routes:
  - {name: everything, channel: incidents}
"""


def headers(slack: SlackWorkspace) -> list[str]:
    return [json.dumps(m) for m in slack.messages("incidents") if m.get("bot_id")]


def linear_forecast(
    ref: ResourceRef, capacity: float, used: float, per_day: float, now: datetime
) -> Exhaustion:
    """A forecast growing `per_day` from `used`, a narrow interval, crossing `capacity`."""
    history = tuple((now - timedelta(hours=h), used - per_day * h / 24) for h in range(96, -1, -1))
    points = tuple(
        ForecastPoint(
            now + timedelta(hours=h),
            used + per_day * h / 24,
            used + per_day * h / 24 * 0.9,
            used + per_day * h / 24 * 1.1,
        )
        for h in range(1, 30 * 24, 6)
    )
    forecast = Forecast(ref, capacity, used, history, points, "linear", 0.8, 4.0)
    days = (capacity - used) / per_day
    return Exhaustion(forecast, days, days * 0.9, 0.95, "warning")


@pytest.fixture
def routing(tmp_path: Path) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(ROUTING)
    return path


def test_the_running_bot_scans_on_its_crontab_and_opens_the_volume_incident(
    tmp_path: Path, routing: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    due = now + timedelta(seconds=25)  # after the bot is up
    slack = workspace(post_message_rate=0)
    try:
        with (
            start_capacity_prometheus(now.replace(second=0)) as prom,
            running_bot(
                slack,
                database_url=f"sqlite:///{tmp_path / 'bot.db'}",
                tools={"prometheus_url": prom.url},
                alertmanager={"rules_file": str(routing)},
                capacity={"scan_schedule": f"{due.second} {due.minute} * * * *"},
                digest={"enabled": False},
            ) as bot,
        ):
            assert JOB in bot.bot.runtime.scheduler.cron_jobs()
            found = slack.wait_for(
                lambda: [h for h in headers(slack) if "postgres-data runs out in" in h],
                timeout=90,
            )
            assert found
            assert datetime.now(UTC) >= due  # the crontab fired it, nothing earlier
    finally:
        slack.close()


@pytest.fixture(scope="module")
def prom(capacity_prometheus: PrometheusProcess) -> PrometheusProcess:
    return capacity_prometheus


@pytest.fixture
def bot(prom: PrometheusProcess, tmp_path: Path, routing: Path) -> Iterator[tuple[RunningBot, Any]]:
    slack = workspace(post_message_rate=0)
    try:
        with running_bot(
            slack,
            database_url=f"sqlite:///{tmp_path / 'bot.db'}",
            tools={"prometheus_url": prom.url},
            alertmanager={"rules_file": str(routing)},
            capacity={"enabled": False},
            digest={"enabled": False},
        ) as running:
            yield running, slack
    finally:
        slack.close()


def test_a_workload_forecast_to_cross_its_memory_limit_gets_a_scale_proposal(
    prom: PrometheusProcess, bot: tuple[RunningBot, SlackWorkspace], tmp_path: Path
) -> None:
    running, slack = bot
    ref = ResourceRef(Scope.WORKLOAD, Metric.MEMORY, "inventory", "prod", "app")
    exhaustion = linear_forecast(ref, 512 * MIB, 430 * MIB, 12 * MIB, CAPACITY_NOW)
    api = PrometheusApi(PrometheusConfig(url=prom.url))
    try:
        scan = ForecastScan((exhaustion.forecast,), (exhaustion,), ())
        (opened,) = running.bot.runtime.capacity_scan.open_incidents(scan, CAPACITY_NOW, api)
    finally:
        api.close()
    (action,) = opened.actions
    assert action.kind is ActionKind.SCALE_DEPLOYMENT
    params = action.params.model_dump()
    assert params["previous_replicas"] == 2  # kube_deployment_spec_replicas in the history
    # upper forecast at 14 days: 430 + 1.1 * 168 = 614.8Mi; per pod 80 % of 512Mi -> x1.5
    assert params["replicas"] == 4
    context = EvaluationContext(now=CAPACITY_NOW)
    shipped = evaluate(action, context, running.bot.runtime.remediation.policy)
    # the shipped policy names no approvers, so a RISKY scale is raised to FORBIDDEN
    assert (shipped.verdict, shipped.rule) == (Verdict.FORBIDDEN, "scale-prod")
    site = tmp_path / "site.yaml"
    site.write_text("version: 1\ndefaults:\n  approvers: [S0ONCALL]\n")
    decision = evaluate(action, context, load_policy([str(site)]))
    assert (decision.verdict, decision.rule) == (Verdict.RISKY, "scale-prod")
    header = slack.wait_for(
        lambda: [h for h in headers(slack) if "prod/inventory memory runs out in" in h],
        timeout=20,
    )
    assert header


def test_a_filling_node_disk_proposes_nothing_but_says_where_how_much_and_how_fast(
    prom: PrometheusProcess, bot: tuple[RunningBot, SlackWorkspace]
) -> None:
    running, slack = bot
    ref = ResourceRef(Scope.NODE, Metric.DISK, "worker-2", None, "/")
    exhaustion = linear_forecast(ref, 100 * GIB, 90 * GIB, 1.0 * GIB, CAPACITY_NOW)
    advice = node_disk_advice(exhaustion.forecast)
    assert "/ on node worker-2 has 10.0 GiB free of 100.0 GiB" in advice
    assert "growing 1.0 GiB/day" in advice
    assert "No action is proposed" in advice
    api = PrometheusApi(PrometheusConfig(url=prom.url))
    try:
        scan = ForecastScan((exhaustion.forecast,), (exhaustion,), ())
        (opened,) = running.bot.runtime.capacity_scan.open_incidents(scan, CAPACITY_NOW, api)
    finally:
        api.close()
    assert opened.actions == ()
    header = slack.wait_for(
        lambda: [h for h in headers(slack) if "worker-2 disk runs out in" in h], timeout=20
    )[0]
    assert "10.0 GiB free of 100.0 GiB" in header
    assert "1.0 GiB/day" in header


def test_the_investigations_expand_volume_joins_the_scans_card_instead_of_a_second_one(
    prom: PrometheusProcess, tmp_path: Path, routing: Path
) -> None:
    slack = workspace(post_message_rate=0)
    try:
        with (
            KubeSandbox(read_seed(SHOP_SEED), auto_advance=False, start=CAPACITY_NOW) as kube,
            running_bot(
                slack,
                database_url=f"sqlite:///{tmp_path / 'bot.db'}",
                tools={
                    "prometheus_url": prom.url,
                    "kubeconfig": str(kube.write_kubeconfig(tmp_path / "kubeconfig")),
                },
                alertmanager={"rules_file": str(routing)},
                policy={"files": str(DEV_POLICY)},  # names approvers: the card stays open
                capacity={"enabled": False},
                digest={"enabled": False},
            ) as running,
        ):
            rt = running.bot.runtime
            ref = ResourceRef(Scope.VOLUME, Metric.VOLUME, "postgres-data", "prod")
            exhaustion = linear_forecast(ref, 50 * GIB, 44 * GIB, 1.2 * GIB, CAPACITY_NOW)
            scan = ForecastScan((exhaustion.forecast,), (exhaustion,), ())
            (opened,) = rt.capacity_scan.open_incidents(scan, CAPACITY_NOW, None)
            assert opened.incident_id is not None
            (scan_action,) = opened.actions
            header = slack.wait_for(lambda: headers(slack), timeout=20)[0]
            ts = json.loads(header)["ts"]

            def cards() -> list[str]:
                thread = [json.dumps(m) for m in slack.thread("incidents", ts)]
                return [m for m in thread[1:] if "expand_volume" in m or "Expand" in m]

            assert slack.wait_for(cards, timeout=30)
            # what the pattern engine's disk-filling rule proposes: twice the capacity
            engine = make_action(
                ActionKind.EXPAND_VOLUME,
                name="postgres-data",
                namespace="prod",
                params={"new_size": "100Gi"},
                reason="the volume is nearly full",
                confidence=0.8,
                incident_id=opened.incident_id,
            )
            assert engine.id != scan_action.id
            (outcome,) = rt.remediation.propose(opened.incident_id, [engine], "Volume is 88% full.")
            assert outcome.note == "duplicate"
            with rt.deps.db.session() as session:
                rows = session.exec(
                    select(ActionRecord).where(ActionRecord.incident_id == opened.incident_id)
                ).all()
            assert [r.proposal_id for r in rows] == [scan_action.id]  # the scan's card stands
            assert outcome.action_id == rows[0].id
            assert len(cards()) == 1
    finally:
        slack.close()
