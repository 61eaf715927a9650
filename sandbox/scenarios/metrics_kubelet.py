"""What the kubelet exposes: cAdvisor container usage and PVC volume stats.

cAdvisor labels carry the container instance (`id`, `name`), so a restarted container is
a new series, as on a real node; nothing is scraped from a node that stopped answering.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from sandbox.kube.quantity import parse_quantity
from sandbox.scenarios.frames import ClusterHistory, PodFrame, Scrape, scrapes
from sandbox.scenarios.openmetrics_file import OpenMetricsFile, label_text
from sandbox.scenarios.shop import NAMESPACE, SERVICES, SUPPORT_USAGE, VOLUMES
from sandbox.scenarios.timeline import Timeline
from sandbox.scenarios.traffic import Traffic

MIB = 1024 * 1024
GIB = 1024 * MIB
KUBELET_PORT = 10250
CFS_PERIODS_PER_SECOND = 10.0  # the 100 ms CFS period


class UsageModel:
    """CPU cores and memory bytes one container uses at one scrape."""

    def __init__(self, traffic: Traffic) -> None:
        self.traffic = traffic

    def cores(self, pod: PodFrame, scrape: Scrape) -> float:
        hog = self.traffic.effects.hog_cores(pod.workload, pod.node, scrape.at)
        if hog is not None:
            limit = _limit(scrape, "cpu")
            used = min(hog, limit * 0.995) if limit else hog
            return max(0.01, used) * self.traffic.clock.jitter(pod.name + ":cpu", scrape.at, 0.03)
        service = SERVICES.get(pod.workload) if pod.namespace == NAMESPACE else None
        if service is None:
            base = SUPPORT_USAGE.get(pod.workload, (0.01, 32.0))[0]
            if pod.workload == "postgres":
                base *= self.traffic.effects.db_load(scrape.at) ** 0.6
            return base * self.traffic.clock.jitter(pod.name + ":cpu", scrape.at, 0.1)
        pressure = self.traffic.effects.cpu(service.name, scrape.at)
        serving = self.traffic.serving(service.name, scrape.at)
        rps = sum(p.rps for p in self.traffic.routes(service.name, scrape.at))
        in_service = any(p.name == pod.name for p in serving)
        share = rps / len(serving) if in_service else 0.0
        used = 0.015 + share * service.cpu_ms_per_request / 1000.0
        if pressure is not None:
            used = max(used, pressure.cores)
        limit = _limit(scrape, "cpu")
        if limit:
            used = min(used, limit * 0.995)
        return used * self.traffic.clock.jitter(pod.name + ":cpu", scrape.at, 0.04)

    def memory(self, pod: PodFrame, scrape: Scrape) -> float:
        service = SERVICES.get(pod.workload) if pod.namespace == NAMESPACE else None
        base_mib = (
            service.memory_mib if service else SUPPORT_USAGE.get(pod.workload, (0.01, 32.0))[1]
        )
        usual = (
            base_mib
            * MIB
            * (0.93 + 0.07 * self.traffic.clock.diurnal(scrape.at))
            * (1 + self.traffic.clock.noise(pod.name + ":mem", scrape.at, 0.02, 600.0))
        )
        fill = self.traffic.effects.memory_fill(service.name, scrape.at) if service else None
        limit = _limit(scrape, "memory")
        if fill is None or not limit:
            return usual
        progress = min(1.0, (scrape.at - scrape.started) / fill)
        return usual + (limit * 0.985 - usual) * progress

    def throttled(self, pod: PodFrame, scrape: Scrape, cores: float) -> float:
        """Share of CFS periods throttled."""
        service = SERVICES.get(pod.workload) if pod.namespace == NAMESPACE else None
        pressure = self.traffic.effects.cpu(service.name, scrape.at) if service else None
        if pressure is not None and pressure.throttled > 0:
            return pressure.throttled * self.traffic.clock.jitter(
                pod.name + ":thr", scrape.at, 0.08
            )
        limit = _limit(scrape, "cpu") or 1.0
        return min(0.4, (cores / limit) ** 3 * 0.25)


def _limit(scrape: Scrape, resource: str) -> float:
    amount = scrape.container.limits.get(resource)
    return _quantity(amount) if amount else 0.0


@lru_cache(maxsize=256)
def _quantity(amount: str) -> float:
    return float(parse_quantity(amount))


def _cadvisor_labels(scrape: Scrape, node_ip: str) -> dict[str, str]:
    pod, box = scrape.pod, scrape.container
    runtime_id = box.container_id.split("://")[-1]
    qos = "burstable" if box.requests else "besteffort"
    uid = pod.uid.replace("-", "_")
    return {
        "job": "kubelet",
        "metrics_path": "/metrics/cadvisor",
        "instance": f"{node_ip}:{KUBELET_PORT}",
        "node": pod.node,
        "namespace": pod.namespace,
        "pod": pod.name,
        "container": box.name,
        "image": box.image,
        "id": f"/kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{uid}.slice/"
        f"cri-containerd-{runtime_id}.scope",
        "name": runtime_id,
    }


def _container_scrapes(history: ClusterHistory, timeline: Timeline) -> Iterator[list[Scrape]]:
    grid = timeline.grid()
    for pod in history.all_pods():
        for box in pod.containers:
            yield [s for s in scrapes(history, pod, box.name, grid) if s.up]


def write_kubelet_metrics(
    out: OpenMetricsFile, history: ClusterHistory, traffic: Traffic, timeline: Timeline
) -> dict[tuple[str, int], float]:
    """Write cAdvisor and volume series; returns the CPU cores in use per (node, time)."""
    usage = UsageModel(traffic)
    demand: dict[tuple[str, int], float] = {}
    containers = list(_container_scrapes(history, timeline))
    node_ips = {node.name: node.ip for node in history.last.nodes}

    def labelled(scrape: Scrape) -> str:
        return label_text(_cadvisor_labels(scrape, node_ips.get(scrape.pod.node, "")))

    out.family("container_cpu_usage_seconds", "counter", "Cumulative cpu time consumed in seconds.")
    for samples in containers:
        total = 0.0
        for scrape in samples:
            cores = usage.cores(scrape.pod, scrape)
            where = (scrape.pod.node, scrape.at)
            demand[where] = demand.get(where, 0.0) + cores
            if scrape.fresh:
                total = cores * max(0.0, scrape.at - scrape.started)
            total += cores * timeline.step
            out.sample(labelled(scrape), total, scrape.at)
    out.family("container_memory_working_set_bytes", "gauge", "Current working set in bytes.")
    for samples in containers:
        for scrape in samples:
            out.sample(labelled(scrape), round(usage.memory(scrape.pod, scrape)), scrape.at)
    limited = [s for s in containers if s and s[0].container.limits.get("cpu")]
    for throttled_family in (False, True):
        name = "container_cpu_cfs_" + ("throttled_periods" if throttled_family else "periods")
        help_text = (
            "Number of throttled period intervals."
            if throttled_family
            else "Number of elapsed enforcement period intervals."
        )
        out.family(name, "counter", help_text)
        for samples in limited:
            total = 0.0
            for scrape in samples:
                periods = CFS_PERIODS_PER_SECOND * timeline.step
                if throttled_family:
                    cores = usage.cores(scrape.pod, scrape)
                    periods *= usage.throttled(scrape.pod, scrape, cores)
                if scrape.fresh:
                    total = 0.0
                total += periods
                out.sample(labelled(scrape), round(total), scrape.at)
    _write_volume_stats(out, history, traffic, timeline, node_ips)
    return demand


def _write_volume_stats(
    out: OpenMetricsFile,
    history: ClusterHistory,
    traffic: Traffic,
    timeline: Timeline,
    node_ips: dict[str, str],
) -> None:
    rows: dict[str, list[tuple[str, int, float]]] = {"capacity": [], "available": [], "used": []}
    for volume in VOLUMES:
        for at in timeline.grid():
            frame = history.at(at)
            pod = next((p for p in frame.pods if p.workload == volume.workload), None)
            node = frame.node(pod.node) if pod else None
            if pod is None or node is None or node.ready != "True":
                continue
            seeded = volume.capacity_gib * GIB
            ratio = traffic.effects.volume_fill(volume.claim, timeline.now, at)
            if ratio is None:
                ratio = volume.used_ratio + traffic.clock.noise(volume.claim, at, 0.004, 3600.0)
            used = round(seeded * ratio)  # the data stays what it is when the volume grows
            claim = frame.claim(volume.namespace, volume.claim)
            capacity = (
                max(seeded, round(parse_quantity(claim.capacity)))
                if claim and claim.capacity
                else seeded
            )
            labels = label_text(
                {
                    "job": "kubelet",
                    "metrics_path": "/metrics",
                    "instance": f"{node_ips.get(pod.node, '')}:{KUBELET_PORT}",
                    "node": pod.node,
                    "namespace": volume.namespace,
                    "persistentvolumeclaim": volume.claim,
                }
            )
            rows["capacity"].append((labels, at, capacity))
            rows["used"].append((labels, at, used))
            rows["available"].append((labels, at, capacity - used))
    for kind, samples in rows.items():
        out.family(f"kubelet_volume_stats_{kind}_bytes", "gauge", f"Volume {kind} space in bytes.")
        for labels, at, value in samples:
            out.sample(labels, value, at)
