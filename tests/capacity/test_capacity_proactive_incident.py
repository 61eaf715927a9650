"""The forecast scan against real Prometheus history opens one incident thread for the
volume that fills in ~5 days, with an expand_volume card, and a re-scan dedupes into it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.capacity.forecasts import forecast_all
from bot.settings import CapacitySettings
from bot.store.incidents import Incident
from policies import ActionKind
from sandbox.procs.prometheus import PrometheusProcess
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import running_bot
from tests.capacity.capacity_prometheus import CAPACITY_NOW
from tools.config import PrometheusConfig
from tools.metrics.api import PrometheusApi
from tools.metrics.frames import RangeFrames

# The shipped routing without the 2-minute hold on warnings, so the thread opens at once.
ROUTING = """
reopen_window: 1h
grouping:
  - {name: workload, key: [namespace, workload]}
notify: []
mute: []
routes:
  - {name: everything, channel: incidents}
"""


@pytest.fixture(scope="module")
def prom(capacity_prometheus: PrometheusProcess) -> PrometheusProcess:
    return capacity_prometheus


def test_forecast_finds_the_volume_that_fills_in_five_days_and_not_the_flat_one(
    prom: PrometheusProcess,
) -> None:
    config = PrometheusConfig(url=prom.url)
    api, frames = PrometheusApi(config), RangeFrames(config)
    try:
        scan = forecast_all(api, frames, CapacitySettings(), CAPACITY_NOW)
    finally:
        frames.close()
        api.close()
    by_label = {e.resource.label: e for e in scan.exhaustions}
    postgres = by_label["persistentvolumeclaim/prod/postgres-data volume"]
    assert postgres.days_likely == pytest.approx(5.0, abs=0.75)
    assert postgres.days_likely is not None
    assert postgres.days_earliest <= postgres.days_likely
    assert postgres.probability >= 0.8
    assert postgres.severity == "warning"
    assert "persistentvolumeclaim/monitoring/prometheus-data volume" not in by_label
    archive = by_label["persistentvolumeclaim/prod/orders-archive volume"]
    assert archive.days_likely == pytest.approx(60.0, abs=8.0)
    assert archive.severity == "info"
    labels = {f.resource.label for f in scan.forecasts}
    assert "persistentvolumeclaim/monitoring/prometheus-data volume" in labels
    # scaled to zero: no fresh data, and the line says which workload it is about
    assert any(s.workload == ("staging", "old-api") for s in scan.skipped)


def headers(slack: SlackWorkspace) -> list[dict[str, Any]]:
    return [m for m in slack.messages("incidents") if m.get("bot_id")]


def test_scan_opens_one_incident_with_an_expand_volume_card_and_a_rescan_dedupes(
    prom: PrometheusProcess, slack: SlackWorkspace, tmp_path: Path
) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING)
    with running_bot(
        slack,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        tools={"prometheus_url": prom.url},
        alertmanager={"rules_file": str(routing)},
        capacity={"enabled": False},  # the test runs the scan itself, at the history's now
    ) as bot:
        first = bot.bot.runtime.capacity_scan.scan_and_open(CAPACITY_NOW)
        assert [p.exhaustion.resource.name for p in first] == ["postgres-data"]
        (action,) = first[0].actions
        assert action.kind is ActionKind.EXPAND_VOLUME
        size = action.params.model_dump()["new_size"]
        # 50Gi now; the upper forecast 14 days ahead (~62Gi) plus 20 %, in 10Gi steps
        assert size in {"70Gi", "80Gi"}
        header = slack.wait_for(lambda: headers(slack), timeout=15)[0]
        assert "postgres-data runs out in" in json.dumps(header)

        def card() -> list[dict[str, Any]]:
            return [
                m
                for m in slack.thread("incidents", header["ts"])
                if size in json.dumps(m) and m["ts"] != header["ts"]
            ]

        assert slack.wait_for(card, timeout=60)  # after the header, the triage and the scan
        second = bot.bot.runtime.capacity_scan.scan_and_open(CAPACITY_NOW)
        assert [p.incident_id for p in second] == [first[0].incident_id]
        with bot.bot.deps.db.session() as session:
            assert len(session.exec(select(Incident)).all()) == 1
        assert len(headers(slack)) == 1
        assert len(card()) == 1
