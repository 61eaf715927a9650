"""A scenario pack plays the same whatever the time of day it is loaded: every generated
shape follows the pack's own clock (its incident start), never the wall clock's hour."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.capacity.history import build_capacity_history
from sandbox.kube import KubeSandbox
from sandbox.procs.prometheus import start_prometheus
from sandbox.scenarios import Timeline, load_scenario, play_cluster, render, scenario_names
from sandbox.scenarios.render import RenderedScenario
from sandbox.world.world import HISTORY_BEFORE_INCIDENT
from tests.scenarios.evidence import BEFORE_INCIDENT, instant, metric_shape

DAY = 86_400
HOUR = 3600


def _yesterday_at(hour: int) -> int:
    """Yesterday at `hour`:00 UTC: recent enough for Prometheus' retention."""
    midnight = int(datetime.now(UTC).timestamp()) // DAY * DAY
    return midnight - DAY + hour * HOUR


NIGHT, AFTERNOON = _yesterday_at(1), _yesterday_at(15)


def _render(name: str, now: int, workdir: Path) -> RenderedScenario:
    scenario = load_scenario(name)
    incident_ago = scenario.spec.incident.started_ago
    timeline = Timeline.ending_now(
        incident_ago=incident_ago,
        history=max(3 * HOUR, incident_ago + HISTORY_BEFORE_INCIDENT),
        step=60,
        now=now,
    )
    with KubeSandbox(None, auto_advance=False) as kube:
        history = play_cluster(kube, scenario, timeline)
    return render(scenario, history, timeline, workdir)


# Series whose value is itself a moment (a certificate's expiry, in Unix seconds): compared
# as an offset from the load moment too.
MOMENTS = re.compile(r"^[a-z0-9_]*(?:_not_after|_not_before|_timestamp_seconds)\b")


def _samples_from_now(rendered: RenderedScenario) -> dict[tuple[str, int], str]:
    """Every sample keyed by its series and its offset from the load moment."""
    now = rendered.timeline.now
    found = {}
    for line in rendered.metrics_file.read_text().splitlines():
        if line.startswith("#"):
            continue
        series, value, at = line.rsplit(" ", 2)
        if MOMENTS.match(series):
            value = str(float(value) - now)
        found[(series, int(at) - now)] = value
    return found


@pytest.mark.parametrize("name", scenario_names())
def test_a_pack_writes_the_same_metrics_at_night_as_in_the_afternoon(
    name: str, tmp_path: Path
) -> None:
    night = _render(name, NIGHT, tmp_path / "night")
    afternoon = _render(name, AFTERNOON, tmp_path / "afternoon")
    at_night, in_the_afternoon = _samples_from_now(night), _samples_from_now(afternoon)
    assert at_night.keys() == in_the_afternoon.keys()
    differing = [key for key, value in at_night.items() if in_the_afternoon[key] != value]
    assert differing == [], f"{len(differing)} samples differ, e.g. {differing[:3]}"
    assert len(night.logs) == len(afternoon.logs)
    assert len(night.traces) == len(afternoon.traces)


def test_capacity_history_is_the_same_whenever_it_is_generated() -> None:
    grids = [
        build_capacity_history(datetime.fromtimestamp(now, UTC), days=3)
        for now in (NIGHT, AFTERNOON + 2 * DAY + 7 * HOUR)
    ]
    (_, first), (_, second) = grids
    assert first.keys() == second.keys()
    for name, family in first.items():
        for one, other in zip(family.series, second[name].series, strict=True):
            assert one.labels == other.labels
            assert list(one.values) == list(other.values), name


@pytest.fixture
def loaded_twice(tmp_path: Path) -> Iterator[list[tuple[str, RenderedScenario]]]:
    """slow-dependency rendered at 01:00 and at 15:00 UTC, each in its own Prometheus."""
    loaded, processes = [], []
    try:
        for label, now in (("night", NIGHT), ("afternoon", AFTERNOON)):
            rendered = _render("slow-dependency", now, tmp_path / label)
            prometheus = start_prometheus(
                history_file=rendered.metrics_file, workdir=tmp_path / f"prometheus-{label}"
            )
            processes.append(prometheus)
            loaded.append((prometheus.url, rendered))
        yield loaded
    finally:
        for process in processes:
            process.stop()


def test_a_pack_shows_the_same_evidence_in_prometheus_at_night_and_in_the_afternoon(
    loaded_twice: list[tuple[str, RenderedScenario]],
) -> None:
    (night_url, night), (afternoon_url, afternoon) = loaded_twice
    checks = night.scenario.expected.evidence.metrics
    assert checks, "slow-dependency declares metric evidence"
    for check in checks:
        for offset in (night.timeline.incident - BEFORE_INCIDENT - night.timeline.now, 0):
            at_night = instant(night_url, check.query, night.timeline.now + offset)
            later = instant(afternoon_url, check.query, afternoon.timeline.now + offset)
            assert at_night == pytest.approx(later, rel=1e-6), check.query
        assert metric_shape(night_url, check, night.timeline) == []
        assert metric_shape(afternoon_url, check, afternoon.timeline) == []
