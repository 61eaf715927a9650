"""A scenario's metric history as one OpenMetrics file, ready for promtool backfill."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from sandbox.scenarios.catalog import Scenario
from sandbox.scenarios.causes import cause_gate
from sandbox.scenarios.effects import EffectBook
from sandbox.scenarios.frames import ClusterHistory
from sandbox.scenarios.metrics_apps import app_targets, app_up_samples, write_app_metrics
from sandbox.scenarios.metrics_certs import write_cert_metrics
from sandbox.scenarios.metrics_exporters import (
    node_up_samples,
    write_node_exporter,
    write_postgres_exporter,
)
from sandbox.scenarios.metrics_kube_state import KubeStateWriter
from sandbox.scenarios.metrics_kubelet import write_kubelet_metrics
from sandbox.scenarios.openmetrics_file import OpenMetricsFile
from sandbox.scenarios.timeline import Timeline
from sandbox.scenarios.traffic import Traffic


def traffic_for(
    scenario: Scenario, history: ClusterHistory, timeline: Timeline, *, live: bool = False
) -> Traffic:
    """The traffic model; `live`: effects also follow the cluster (see `causes`)."""
    gate = cause_gate(scenario, history, timeline.incident) if live else None
    return Traffic(
        history,
        EffectBook(scenario.spec.metrics, timeline.incident, gate),
        scenario.name,
        timeline.clock,
    )


def write_metrics(
    path: Path, scenario: Scenario, history: ClusterHistory, timeline: Timeline
) -> int:
    """Write every exporter's series over the whole timeline; returns the sample count."""
    with path.open("w") as handle:
        return write_metrics_to(handle, scenario, history, timeline)


def write_metrics_to(
    handle: TextIO,
    scenario: Scenario,
    history: ClusterHistory,
    timeline: Timeline,
    *,
    live: bool = False,
) -> int:
    """`write_metrics` into an open text handle (the live exporter renders into memory,
    `live`: with effects that follow the cluster)."""
    traffic = traffic_for(scenario, history, timeline, live=live)
    targets = app_targets(history, timeline)
    with OpenMetricsFile(handle) as out:
        out.family("up", "gauge", "1 if the target was scraped successfully, else 0.")
        for labels, at, value in app_up_samples(targets) + node_up_samples(history, timeline):
            out.sample(labels, value, at)
        write_app_metrics(out, targets, traffic, timeline)
        KubeStateWriter(out, history, timeline).write()
        demand = write_kubelet_metrics(out, history, traffic, timeline)
        write_node_exporter(out, history, timeline, demand)
        write_postgres_exporter(out, history, traffic, timeline)
        write_cert_metrics(out, list(scenario.spec.metrics), timeline)
        return out.samples
