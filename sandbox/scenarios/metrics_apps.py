"""What the shop's own /metrics endpoints expose, scraped through a ServiceMonitor.

Labels as the Prometheus Operator writes them: job and service = the Service name,
namespace, pod, container, endpoint, instance = podIP:port. A container that is not running
(or sits on a node that stopped answering) is still a target, scraped as `up` 0 and nothing
else; counters start over when a container restarts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from sandbox.scenarios.frames import ClusterHistory, PodFrame, Scrape, scrapes
from sandbox.scenarios.openmetrics_file import HistogramSeries, OpenMetricsFile, label_text
from sandbox.scenarios.shapes import lognormal_cdf
from sandbox.scenarios.shop import APP_PORT, LATENCY_BOUNDS, NAMESPACE, SERVICES, AppService
from sandbox.scenarios.timeline import Timeline
from sandbox.scenarios.traffic import Traffic

POOL_SIZE = 20


@dataclass
class AppTarget:
    service: AppService
    pod: PodFrame
    samples: list[Scrape]

    def labels(self) -> dict[str, str]:
        return {
            "job": self.service.name,
            "service": self.service.name,
            "namespace": self.pod.namespace,
            "pod": self.pod.name,
            "container": self.service.container,
            "endpoint": "http",
            "instance": f"{self.pod.pod_ip}:{APP_PORT}",
        }


def app_targets(history: ClusterHistory, timeline: Timeline) -> list[AppTarget]:
    grid = timeline.grid()
    found = []
    for pod in history.all_pods():
        service = SERVICES.get(pod.workload)
        if service is None or pod.namespace != NAMESPACE or not pod.pod_ip:
            continue
        found.append(AppTarget(service, pod, scrapes(history, pod, service.container, grid)))
    return found


def _pod_share(traffic: Traffic, target: AppTarget, scrape: Scrape) -> float:
    """This pod's share of its service's requests at the scrape."""
    if not (scrape.up and scrape.pod.serving):
        return 0.0
    serving = traffic.serving(target.service.name, scrape.at)
    return 1.0 / len(serving) if serving else 0.0


def _counters(
    traffic: Traffic, target: AppTarget, step: int, route: int, code: str
) -> Iterator[tuple[int, float]]:
    """(time, requests counter) of one route and status code."""
    total = 0.0
    for scrape in target.samples:
        if not scrape.up:
            continue
        point = traffic.routes(target.service.name, scrape.at)[route]
        share = _pod_share(traffic, target, scrape)
        ratio = max(0.0, 1.0 - point.error_share) if code == "200" else point.errors.get(code, 0.0)
        requests = point.rps * share * ratio
        if scrape.fresh:
            total = requests * max(0.0, scrape.at - scrape.started) * 0.8
        total += requests * step
        yield scrape.at, total


def app_up_samples(targets: list[AppTarget]) -> list[tuple[str, int, float]]:
    """`up` of every app target, to be written inside the single `up` family."""
    rows: list[tuple[str, int, float]] = []
    for target in targets:
        labels = label_text(target.labels())
        rows.extend((labels, s.at, 1.0 if s.up else 0.0) for s in target.samples)
    return rows


def write_app_metrics(
    out: OpenMetricsFile, targets: list[AppTarget], traffic: Traffic, timeline: Timeline
) -> None:
    _write_requests(out, targets, traffic, timeline)
    _write_latency(out, targets, traffic, timeline)
    _write_hikari(out, targets, traffic, timeline.step)


def _codes(traffic: Traffic, service: AppService) -> list[str]:
    codes = {"200", "500"} | traffic.effects.error_codes(service.name)
    if any(route.calls for route in service.routes):
        codes |= {"502", "503"}
    return sorted(codes)


def _write_requests(
    out: OpenMetricsFile, targets: list[AppTarget], traffic: Traffic, timeline: Timeline
) -> None:
    out.family("http_requests", "counter", "HTTP requests served, by route and status code.")
    for target in targets:
        for index, route in enumerate(target.service.routes):
            for code in _codes(traffic, target.service):
                labels = {**target.labels(), "method": route.method, "route": route.path}
                text = label_text({**labels, "code": code})
                for at, value in _counters(traffic, target, timeline.step, index, code):
                    out.sample(text, round(value), at)


def _write_latency(
    out: OpenMetricsFile, targets: list[AppTarget], traffic: Traffic, timeline: Timeline
) -> None:
    out.family("http_request_duration_seconds", "histogram", "HTTP request latency.")
    for target in targets:
        for index, route in enumerate(target.service.routes):
            labels = {**target.labels(), "method": route.method, "route": route.path}
            series = HistogramSeries(labels, LATENCY_BOUNDS)
            buckets = [0.0] * len(LATENCY_BOUNDS)
            total = 0.0
            for scrape in target.samples:
                if not scrape.up:
                    continue
                point = traffic.routes(target.service.name, scrape.at)[index]
                requests = point.rps * _pod_share(traffic, target, scrape) * timeline.step
                if scrape.fresh:
                    buckets = [0.0] * len(LATENCY_BOUNDS)
                    total = 0.0
                # a pod on a contended node is slower than its service's average
                median = (
                    point.median_s
                    - point.node_extra_s
                    + traffic.effects.node_extra_s(scrape.pod.node, scrape.at)
                )
                for position, bound in enumerate(LATENCY_BOUNDS):
                    share = lognormal_cdf(bound, median, point.sigma)
                    buckets[position] += requests * (1.0 if bound == float("inf") else share)
                total += requests * median * math.exp(point.sigma**2 / 2)  # mean
                rounded = [float(round(count)) for count in buckets]
                out.histogram(series, rounded, total, scrape.at)


def _write_hikari(
    out: OpenMetricsFile, targets: list[AppTarget], traffic: Traffic, step: int
) -> None:
    """Micrometer's HikariCP gauges for the Java service's connection pool."""
    java = [t for t in targets if t.service.language == "java"]
    gauges = (
        ("hikaricp_connections_active", "Active connections"),
        ("hikaricp_connections_idle", "Idle connections"),
        ("hikaricp_connections_pending", "Pending threads"),
        ("hikaricp_connections_max", "Max connections"),
    )
    for name, help_text in gauges:
        out.family(name, "gauge", help_text)
        for target in java:
            text = label_text({**target.labels(), "pool": "HikariPool-1"})
            for scrape in target.samples:
                if scrape.up:
                    active, pending = _pool_state(traffic, target, scrape)
                    value = {
                        "hikaricp_connections_active": active,
                        "hikaricp_connections_idle": POOL_SIZE - active,
                        "hikaricp_connections_pending": pending,
                        "hikaricp_connections_max": POOL_SIZE,
                    }[name]
                    out.sample(text, value, scrape.at)
    out.family("hikaricp_connections_timeout", "counter", "Connection timeout total count")
    for target in java:
        text = label_text({**target.labels(), "pool": "HikariPool-1"})
        total = 0.0
        for scrape in target.samples:
            if not scrape.up:
                continue
            if scrape.fresh:
                total = 0.0
            pressure = traffic.effects.pool(target.service.name, scrape.at)
            if pressure is not None:
                total += pressure.timeouts_per_s * step
            out.sample(text, round(total), scrape.at)


def _pool_state(traffic: Traffic, target: AppTarget, scrape: Scrape) -> tuple[float, float]:
    pressure = traffic.effects.pool(target.service.name, scrape.at)
    point = traffic.routes(target.service.name, scrape.at)[0]
    busy = point.rps * _pod_share(traffic, target, scrape) * point.median_s * 0.6
    active = min(POOL_SIZE, round(busy * traffic.clock.jitter(target.pod.name, scrape.at, 0.2) + 1))
    if pressure is None or pressure.pending < 1:
        return float(active), 0.0
    return float(POOL_SIZE), round(
        pressure.pending * traffic.clock.jitter(target.pod.name, scrape.at, 0.15)
    )
