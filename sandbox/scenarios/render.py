"""Everything a scenario puts into the backends, generated for one load moment.

A scenario with `capacity_history` gets the capacity story's weeks of metrics instead of
the ones generated from the cluster (logs and traces are generated as usual)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.scenarios.catalog import Scenario
from sandbox.scenarios.frames import ClusterHistory
from sandbox.scenarios.logs import LogWriter
from sandbox.scenarios.metrics import write_metrics
from sandbox.scenarios.timeline import Timeline
from sandbox.scenarios.traces import scenario_traces

Json = dict[str, Any]


@dataclass(frozen=True)
class RenderedScenario:
    scenario: Scenario
    timeline: Timeline
    history: ClusterHistory
    metrics_file: Path  # OpenMetrics text for promtool
    samples: int
    logs: list[Json]  # ECS documents for the OpenSearch-API server
    traces: list[Json]  # Jaeger JSON model


def render(
    scenario: Scenario, history: ClusterHistory, timeline: Timeline, workdir: Path
) -> RenderedScenario:
    """Generate metrics (written to `workdir`), traces and logs from the recorded cluster."""
    workdir.mkdir(parents=True, exist_ok=True)
    metrics_file = workdir / f"{scenario.name}.om"
    if scenario.spec.capacity_history:
        samples = _write_capacity_history(metrics_file, scenario, timeline)
    else:
        samples = write_metrics(metrics_file, scenario, history, timeline)
    traces = scenario_traces(scenario, history, timeline)
    logs = LogWriter(scenario, history, timeline, traces).documents()
    return RenderedScenario(scenario, timeline, history, metrics_file, samples, logs, traces)


def _write_capacity_history(path: Path, scenario: Scenario, timeline: Timeline) -> int:
    """The capacity story's weeks of history, its last sample at the horizon's end (so the
    data stays live after loading, like a generated scenario's); its 5 minute step keeps
    every instant query inside Prometheus' look-back."""
    from sandbox.capacity.history import write_capacity_history  # it imports scenarios

    days = scenario.spec.capacity_history / 86400
    return write_capacity_history(path, timeline.datetime(timeline.end), days)
