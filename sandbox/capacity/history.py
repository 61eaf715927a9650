"""Prometheus history for capacity analysis: weeks of usage with trend, cycles and a step.

`write_capacity_history(path, now, days=28, step_seconds=300)` writes OpenMetrics text for
`promtool tsdb create-blocks-from openmetrics`; the last sample of every live series is at
`now` (whole seconds), one sample every `step_seconds` (5 minutes by default, so any instant
query inside the history finds a sample within Prometheus' 5 minute look-back).

Series (labels as the exporters write them behind the usual kube-prometheus jobs):

node-exporter `{job="node-exporter", instance="10.0.0.1x:9100", node="worker-N"}`
- `node_filesystem_size_bytes` / `node_filesystem_avail_bytes` with `mountpoint="/",
  device="/dev/nvme0n1p1", fstype="ext4"`: 100 GiB root disks; worker-1 flat at ~38 GiB used,
  worker-3 flat (~41 GiB, weekly dip), worker-2 grows 1 GiB/day from 55 GiB: full in ~45 days.
- `node_memory_MemTotal_bytes` (16 GiB) / `node_memory_MemAvailable_bytes` (total minus
  1.4 GiB system and the working sets of the node's pods).
- `node_cpu_seconds_total{cpu="0".."3", mode="idle"|"user"|"system"|"iowait"}` counters;
  busy time is 0.25 cores of system load plus the node's pods' CPU.

kubelet `{job="kubelet", metrics_path="/metrics", instance="10.0.0.1x:10250", node,
namespace, persistentvolumeclaim}`
- `kubelet_volume_stats_capacity_bytes` / `_used_bytes` / `_available_bytes`:
  `prod/postgres-data` (50 GiB, the orders database) is 44 GiB used at `now` and grows
  1.2 GiB/day with a 0.3 GiB daily cycle: it runs out ~5 days after `now`; 8 days before
  `now` a bulk import added 4 GiB (before it grew 0.5 GiB/day). `monitoring/prometheus-data`
  (100 GiB) is flat at ~62 GiB with a daily compaction cycle and noise.
  `prod/orders-archive` (200 GiB) grows 0.5 GiB/day from 170 GiB: full in ~60 days.

cAdvisor `{job="kubelet", metrics_path="/metrics/cadvisor", instance, node, namespace, pod,
container, image}`
- `container_cpu_usage_seconds_total` (counter) and `container_memory_working_set_bytes`.

kube-state-metrics `{job="kube-state-metrics", instance="10.244.1.9:8080"}` plus
- `kube_pod_container_resource_requests` / `kube_pod_container_resource_limits`
  `{namespace, pod, container, node, resource="cpu"|"memory", unit="core"|"byte"}`
  (a limit that is not set has no series, as in kube-state-metrics).
- `kube_pod_owner{namespace, pod, owner_kind="ReplicaSet"|"StatefulSet", owner_name,
  owner_is_controller="true"}` and `kube_replicaset_owner{namespace, replicaset,
  owner_kind="Deployment", owner_name, owner_is_controller="true"}`: pods group by
  deployment through the ReplicaSet, as with real kube-state-metrics.
- `kube_deployment_spec_replicas` / `kube_deployment_status_replicas{namespace, deployment}`.
- `kube_job_failed{namespace, job_name, condition="true"|"false"}` of the Job left behind
  (staging/nightly-export-28, failed 3 days before `now`), so `KubeJobFailed` fires.

application `{job=<service>, namespace, service, code="200"}`
- `http_requests_total` counters per service.

Workloads (pods named `<deployment>-<replicaset hash>-<suffix>`, stable across calls):
prod/frontend (2 x web), prod/checkout (3 x app, right-sized: requests 250m/256Mi, uses
~0.2 cores and ~205 MiB), prod/inventory (2 x app, memory under-provisioned: request 256Mi,
uses ~330 MiB, limit 512Mi), prod/payments (2 x app, over-provisioned: requests 500m/512Mi,
uses ~0.03 cores (p95 ~0.04) and ~140 MiB), prod/postgres (StatefulSet, postgres-0 on
worker-3), staging/legacy-report (1 x report: busy until 10 days before `now`, then CPU
~0.0005 cores and no requests), staging/old-api (2 x api until 20 days before `now`, then
scaled to 0 replicas: its pod series end there).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sandbox.capacity.fleet import (
    GIB,
    NODE_CPUS,
    NODE_MEMORY,
    NODES,
    ROOT_DISK,
    Fleet,
    Workload,
    node_ip,
    pod_node,
    shop_fleet,
)
from sandbox.capacity.shapes import DAY, Array, Shape, cumulative
from sandbox.scenarios.openmetrics_file import FamilyType, OpenMetricsFile, label_text

ROOT_FS = {"mountpoint": "/", "device": "/dev/nvme0n1p1", "fstype": "ext4"}
KSM = {"job": "kube-state-metrics", "instance": "10.244.1.9:8080"}
MODES = ("idle", "user", "system", "iowait")
Mask = npt.NDArray[np.bool_]


@dataclass
class Series:
    labels: dict[str, str]
    values: Array
    present: Mask | None = None  # None = every sample


@dataclass
class Family:
    kind: FamilyType
    help_text: str
    series: list[Series]


class Grid:
    """The sample instants: `count` steps ending exactly at `now`."""

    def __init__(self, now: datetime, days: float, step_seconds: int, seed: int) -> None:
        self.end = int(now.timestamp())
        self.step = step_seconds
        count = int(days * DAY // step_seconds) + 1
        self.stamps = self.end - step_seconds * np.arange(count - 1, -1, -1, dtype=np.int64)
        self.days = (self.stamps - self.end) / DAY
        self.rng = np.random.default_rng(seed)

    def curve(self, shape: Shape) -> Array:
        return shape.values(self.days, self.rng)

    def since(self, days_ago: float | None) -> Mask:
        """True from `days_ago` before `now` on (all False when None)."""
        if days_ago is None:
            return np.zeros(len(self.days), dtype=bool)
        return np.asarray(self.days >= -days_ago)


class HistoryBuilder:
    def __init__(self, fleet: Fleet, grid: Grid) -> None:
        self.fleet, self.grid = fleet, grid
        self.families: dict[str, Family] = {}
        zeros = np.zeros(len(grid.days))
        self.node_cpu = {node: zeros.copy() for node in NODES}
        self.node_memory = {node: zeros.copy() for node in NODES}

    def add(self, name: str, kind: FamilyType, help_text: str, series: Series) -> None:
        self.families.setdefault(name, Family(kind, help_text, [])).series.append(series)

    def build(self) -> dict[str, Family]:
        for workload in self.fleet.workloads:
            self.workload(workload)
        self.nodes()
        self.volumes()
        self.failed_jobs()
        return self.families

    def failed_jobs(self) -> None:
        """`kube_job_failed` as kube-state-metrics writes it, from each Job's creation on."""
        for job in self.fleet.failed_jobs:
            failed = self.grid.since(job.failed_days_ago).astype(float)
            for condition, values in (("true", failed), ("false", 1.0 - failed)):
                self.add(
                    "kube_job_failed",
                    "gauge",
                    "The number of pods which reached Phase Failed and the reason for failure.",
                    Series(
                        {
                            **KSM,
                            "namespace": job.namespace,
                            "job_name": job.name,
                            "condition": condition,
                        },
                        values,
                        self.grid.since(job.created_days_ago),
                    ),
                )

    def workload(self, w: Workload) -> None:
        grid = self.grid
        idle = grid.since(w.idle_days_ago)
        gone = grid.since(w.scaled_to_zero_days_ago)
        alive = ~gone
        if w.kind == "Deployment":  # the shop's services; postgres has its own exporter
            rate = np.where(idle, 0.0, grid.curve(w.requests_per_second))
            self.add(
                "http_requests",
                "counter",
                "Total HTTP requests handled.",
                Series(
                    {"job": w.name, "namespace": w.namespace, "service": w.name, "code": "200"},
                    cumulative(rate, grid.step),
                    alive,
                ),
            )
        if w.kind == "Deployment":
            replicas = np.where(gone, 0.0, float(w.replicas))
            ref = {"namespace": w.namespace, "deployment": w.name}
            for name, text in (("spec", "Number of desired pods."), ("status", "Pods.")):
                self.add(
                    f"kube_deployment_{name}_replicas",
                    "gauge",
                    text,
                    Series({**KSM, **ref}, replicas),
                )
            owner = {
                **KSM,
                "namespace": w.namespace,
                "replicaset": w.replicaset,
                "owner_kind": "Deployment",
                "owner_name": w.name,
                "owner_is_controller": "true",
            }
            self.add(
                "kube_replicaset_owner",
                "gauge",
                "ReplicaSet owner.",
                Series(owner, replicas * 0 + 1),
            )
        for index, pod in enumerate(w.pods):
            self.pod(w, index, pod, idle, alive)

    def pod(self, w: Workload, index: int, pod: str, idle: Mask, alive: Mask) -> None:
        grid, node = self.grid, pod_node(w, index)
        cpu = np.where(idle, 0.0005, grid.curve(w.cpu))
        memory = grid.curve(w.memory) * np.where(idle, 0.8, 1.0)
        self.node_cpu[node] += np.where(alive, cpu, 0.0)
        self.node_memory[node] += np.where(alive, memory, 0.0)
        cadvisor = {
            "job": "kubelet",
            "metrics_path": "/metrics/cadvisor",
            "instance": f"{node_ip(node)}:10250",
            "node": node,
            "namespace": w.namespace,
            "pod": pod,
            "container": w.container,
            "image": w.image,
        }
        self.add(
            "container_cpu_usage_seconds",
            "counter",
            "Cumulative cpu time consumed in seconds.",
            Series(cadvisor, cumulative(cpu, grid.step), alive),
        )
        self.add(
            "container_memory_working_set_bytes",
            "gauge",
            "Current working set in bytes.",
            Series(cadvisor, np.rint(memory), alive),
        )
        ones = np.ones(len(grid.days))
        kind, owner = (
            ("StatefulSet", w.name) if w.kind == "StatefulSet" else ("ReplicaSet", w.replicaset)
        )
        ref = {**KSM, "namespace": w.namespace, "pod": pod}
        self.add(
            "kube_pod_owner",
            "gauge",
            "Information about the Pod's owner.",
            Series(
                {**ref, "owner_kind": kind, "owner_name": owner, "owner_is_controller": "true"},
                ones,
                alive,
            ),
        )
        for family, amounts in (
            ("kube_pod_container_resource_requests", (w.cpu_request, w.memory_request)),
            ("kube_pod_container_resource_limits", (w.cpu_limit, w.memory_limit)),
        ):
            for (resource, unit), amount in zip(
                (("cpu", "core"), ("memory", "byte")), amounts, strict=True
            ):
                if amount is None:
                    continue
                labels = {
                    **ref,
                    "container": w.container,
                    "node": node,
                    "resource": resource,
                    "unit": unit,
                }
                self.add(
                    family,
                    "gauge",
                    "Requested resources of a container.",
                    Series(labels, ones * amount, alive),
                )

    def nodes(self) -> None:
        grid = self.grid
        disks = {disk.node: disk for disk in self.fleet.disks}
        for node in NODES:
            base = {"job": "node-exporter", "instance": f"{node_ip(node)}:9100", "node": node}
            fs = {**base, **ROOT_FS}
            used = grid.curve(disks[node].used)
            size = np.full(len(grid.days), ROOT_DISK)
            self.add(
                "node_filesystem_size_bytes", "gauge", "Filesystem size in bytes.", Series(fs, size)
            )
            self.add(
                "node_filesystem_avail_bytes",
                "gauge",
                "Filesystem space available to non-root users in bytes.",
                Series(fs, np.rint(np.maximum(size - used, 0.0))),
            )
            total = np.full(len(grid.days), NODE_MEMORY)
            available = total - 1.4 * GIB - self.node_memory[node]
            self.add("node_memory_MemTotal_bytes", "gauge", "MemTotal.", Series(base, total))
            self.add(
                "node_memory_MemAvailable_bytes",
                "gauge",
                "MemAvailable.",
                Series(base, np.rint(available)),
            )
            busy = np.minimum((0.25 + self.node_cpu[node]) / NODE_CPUS, 0.95)
            shares = {
                "user": busy * 0.7,
                "system": busy * 0.25,
                "iowait": busy * 0.05,
                "idle": 1 - busy,
            }
            for cpu in range(NODE_CPUS):
                for mode in MODES:
                    self.add(
                        "node_cpu_seconds",
                        "counter",
                        "Seconds the CPUs spent in each mode.",
                        Series(
                            {**base, "cpu": str(cpu), "mode": mode},
                            cumulative(shares[mode], grid.step),
                        ),
                    )

    def volumes(self) -> None:
        grid = self.grid
        for volume in self.fleet.volumes:
            labels = {
                "job": "kubelet",
                "metrics_path": "/metrics",
                "instance": f"{node_ip(volume.node)}:10250",
                "node": volume.node,
                "namespace": volume.namespace,
                "persistentvolumeclaim": volume.claim,
            }
            used = np.rint(np.minimum(grid.curve(volume.used), volume.capacity))
            capacity = np.full(len(grid.days), volume.capacity)
            for kind, values in (
                ("capacity", capacity),
                ("used", used),
                ("available", capacity - used),
            ):
                self.add(
                    f"kubelet_volume_stats_{kind}_bytes",
                    "gauge",
                    f"Volume {kind} space in bytes.",
                    Series(labels, values),
                )


def build_capacity_history(
    now: datetime,
    days: float = 28,
    step_seconds: int = 300,
    fleet: Fleet | None = None,
    seed: int = 7,
) -> tuple[Grid, dict[str, Family]]:
    """The series in memory (the backtest reads them without a Prometheus)."""
    grid = Grid(now, days, step_seconds, seed)
    return grid, HistoryBuilder(fleet or shop_fleet(), grid).build()


def write_capacity_history(
    path: Path, now: datetime, days: float = 28, step_seconds: int = 300, fleet: Fleet | None = None
) -> int:
    """Write the OpenMetrics file; returns the number of samples."""
    grid, families = build_capacity_history(now, days, step_seconds, fleet)
    with path.open("w") as handle, OpenMetricsFile(handle) as out:
        for name, family in families.items():
            out.family(name, family.kind, family.help_text)
            for series in family.series:
                text = label_text(series.labels)
                for at, value in _samples(grid, series):
                    out.sample(text, value, at)
        return out.samples


def _samples(grid: Grid, series: Series) -> Iterator[tuple[int, float]]:
    stamps, values = grid.stamps.tolist(), series.values.tolist()
    if series.present is None:
        yield from zip(stamps, values, strict=True)
        return
    for at, value, keep in zip(stamps, values, series.present.tolist(), strict=True):
        if keep:
            yield at, value
