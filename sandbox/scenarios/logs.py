"""A scenario's log documents, shaped as ECS (Elastic Common Schema) JSON.

Three sources, all stamped with the real pod, node and container that wrote them:
request lines for every server span of the traces (so `trace.id` opens the trace in
Jaeger), each service's everyday background lines, and the incident's bursts from
scenario.yaml. Placeholders in burst messages: {pod} {node} {ip} (of a pod of the incident's
service or node) {n} {ms} {sec} {p} {sku}
{order} {items} {batch} {mib} {pct} {date} {time}, and {active} {idle} {pending} (the pool's state).
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sandbox.scenarios.catalog import Scenario, ScenarioError
from sandbox.scenarios.effects import EffectBook
from sandbox.scenarios.frames import ClusterHistory, PodFrame
from sandbox.scenarios.log_lines import BACKGROUND, LOGGERS, level_for, request_message
from sandbox.scenarios.shop import NAMESPACE, SERVICES
from sandbox.scenarios.spec import LogBurst
from sandbox.scenarios.timeline import Timeline
from sandbox.scenarios.traces import ServerSpan, server_spans

Json = dict[str, Any]
WINDOW = 3 * 3600  # logs cover this long before now
INDEX_PREFIX = "logs"
LOG_MAPPINGS: Json = {
    "properties": {
        "@timestamp": {"type": "date"},
        "message": {
            "type": "text",
            "fields": {"keyword": {"type": "keyword", "ignore_above": 512}},
        },
        "service": {"properties": {"name": {"type": "keyword"}, "version": {"type": "keyword"}}},
        "log": {"properties": {"level": {"type": "keyword"}, "logger": {"type": "keyword"}}},
        "trace": {"properties": {"id": {"type": "keyword"}}},
        "span": {"properties": {"id": {"type": "keyword"}}},
        "kubernetes": {
            "properties": {
                "namespace": {"type": "keyword"},
                "pod": {"properties": {"name": {"type": "keyword"}, "ip": {"type": "keyword"}}},
                "container": {"properties": {"name": {"type": "keyword"}}},
                "node": {"properties": {"name": {"type": "keyword"}}},
            }
        },
        "error": {"properties": {"type": {"type": "keyword"}}},
    }
}


def index_for(at: float, namespace: str = NAMESPACE) -> str:
    """Daily indices, as Filebeat / Fluent Bit write them: logs-prod-2026.11.23."""
    return f"{INDEX_PREFIX}-{namespace}-{datetime.fromtimestamp(at, UTC):%Y.%m.%d}"


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def document(at: float, pod: PodFrame, level: str, logger: str, message: str) -> Json:
    box = pod.containers[0]
    version = box.image.rsplit(":", 1)[-1] if ":" in box.image else "latest"
    return {
        "@timestamp": _stamp(at),
        "message": message,
        "log": {"level": level, "logger": logger},
        "service": {"name": pod.workload, "version": version, "environment": "production"},
        "kubernetes": {
            "namespace": pod.namespace,
            "pod": {"name": pod.name, "ip": pod.pod_ip},
            "container": {"name": box.name},
            "node": {"name": pod.node},
        },
        "host": {"name": pod.node},
        "event": {"dataset": f"{pod.workload}.log"},
    }


class LogWriter:
    """The log documents of `timeline`'s window. `seed`: the draws' seed (default: the
    scenario's own, so a load is reproducible). `bursts`: the share (0..1) of the incident's
    burst lines still written at a moment (live worlds: how much of the cause remains);
    None writes them all."""

    def __init__(
        self,
        scenario: Scenario,
        history: ClusterHistory,
        timeline: Timeline,
        traces: list[Json],
        *,
        seed: int | None = None,
        bursts: Callable[[float], float] | None = None,
    ) -> None:
        self.scenario = scenario
        self.history = history
        self.timeline = timeline
        self.begin = max(timeline.start, timeline.now - WINDOW)
        chosen = scenario.random_seed if seed is None else seed
        self.rng = random.Random(chosen)  # noqa: S311 - simulation, not secrets
        self.bursts = bursts
        self.effects = EffectBook(scenario.spec.metrics, timeline.incident)
        self.spans = sorted(server_spans(traces), key=lambda s: s.start_us)
        self._span_times = [s.start_us for s in self.spans]

    def documents(self) -> list[Json]:
        docs = [*self._requests(), *self._background()]
        for burst in self.scenario.spec.logs:
            docs.extend(self._burst(burst))
        docs.sort(key=lambda doc: str(doc["@timestamp"]))
        return docs

    def _alive(self, service: str, at: float) -> list[PodFrame]:
        """Pods of `service` whose container runs at `at` (they can write logs)."""
        frame = self.history.at(at)
        return [
            p
            for p in frame.pods
            if p.workload == service
            and p.namespace == NAMESPACE
            and p.containers
            and p.containers[0].running
            and (node := frame.node(p.node)) is not None
            and node.ready == "True"
        ]

    def _requests(self) -> Iterator[Json]:
        for span in self.spans:
            at = span.start_us / 1e6 + span.duration_us / 1e6
            if not self.begin <= at <= self.timeline.now:
                continue
            pod = next((p for p in self._alive(span.service, at) if p.name == span.pod), None)
            service = SERVICES.get(span.service)
            if pod is None or service is None:
                continue
            level, message = request_message(service.language, span)
            doc = document(at, pod, level, LOGGERS.get(span.service, span.service), message)
            doc["trace"], doc["span"] = {"id": span.trace_id}, {"id": span.span_id}
            doc["event"]["duration"] = span.duration_us * 1000
            method, _, path = span.operation.partition(" ")
            doc["http"] = {"request": {"method": method}, "response": {"status_code": span.status}}
            doc["url"] = {"path": path}
            yield doc

    def _background(self) -> Iterator[Json]:
        for service, lines in BACKGROUND.items():
            language = SERVICES[service].language if service in SERVICES else "postgres"
            for line in lines:
                at = self.begin + self.rng.uniform(0, line.every)
                while at < self.timeline.now:
                    for pod in self._alive(service, at):
                        level = level_for(language, line.level)
                        message = self._fill(line.message, pod, at)
                        yield document(
                            at + self.rng.uniform(0, 3), pod, level, line.logger, message
                        )
                    at += line.every * self.rng.uniform(0.7, 1.3)

    def _burst(self, burst: LogBurst) -> Iterator[Json]:
        service = SERVICES.get(burst.service)
        level = level_for(service.language if service else "postgres", burst.level)
        logger = burst.fields.get("log.logger", LOGGERS.get(burst.service, burst.service))
        at = self.timeline.incident + burst.offset
        until = at + burst.lasting if burst.lasting else self.timeline.now
        count = 0
        while at < min(until, self.timeline.now):
            if self.bursts is not None and at < self.begin - burst.every:  # before the window
                at += burst.every
                continue
            for pod in self._alive(burst.service, at):
                when = at + self.rng.uniform(0, burst.every / 2)
                if self.bursts is not None and self.rng.random() >= self.bursts(when):
                    continue
                message = self._fill(burst.messages[count % len(burst.messages)], pod, when)
                doc = document(when, pod, level, logger, message)
                extra = {k: v for k, v in burst.fields.items() if k != "log.logger"}
                if "error.type" in extra:
                    doc["error"] = {"type": extra.pop("error.type"), "message": message}
                doc["labels"] = extra or None
                if doc["labels"] is None:
                    del doc["labels"]
                if burst.with_trace and (span := self._span_near(burst.service, when)):
                    doc["trace"], doc["span"] = {"id": span.trace_id}, {"id": span.span_id}
                yield doc
                count += 1
            at += burst.every

    def _span_near(self, service: str, at: float) -> ServerSpan | None:
        """An incident request of `service` close to `at` (failed ones first)."""
        index = bisect.bisect_left(self._span_times, int(at * 1e6))
        window = self.spans[max(0, index - 12) : index + 12]
        candidates = [s for s in window if s.service == service]
        failed = [s for s in candidates if s.status >= 500]
        pool = failed or candidates
        return self.rng.choice(pool) if pool else None

    def _fill(self, template: str, pod: PodFrame, at: float) -> str:
        rng = self.rng
        incident = self.scenario.spec.incident
        incident_pods = [
            p
            for p in self.history.at(at).pods
            if (p.workload == incident.service or p.node == incident.node) and p.pod_ip
        ]
        values = {
            "pod": pod.name,
            "node": pod.node,
            "ip": rng.choice(incident_pods).pod_ip if incident_pods else pod.pod_ip,
            "n": rng.randint(1000, 99999),
            "ms": rng.randint(120, 4800),
            "sec": f"{rng.uniform(0.4, 6.0):.1f}",
            "p": rng.randint(0, 11),
            "sku": f"SKU-{rng.randint(10000, 99999)}",
            "order": f"ord-{rng.getrandbits(40):010x}",
            "items": rng.randint(1, 9),
            "batch": f"stl-{datetime.fromtimestamp(at, UTC):%Y%m%d}-{rng.randint(1, 40):02d}",
            "mib": rng.randint(560, 760),
            "pct": rng.randint(93, 99),
            "date": f"{datetime.fromtimestamp(at, UTC):%Y/%m/%d}",
            "time": f"{datetime.fromtimestamp(at, UTC):%H:%M:%S.%f}",
            "active": rng.randint(1, 6),
            "idle": rng.randint(14, 19),
            "pending": 0,
        }
        pressure = self.effects.pool(pod.workload, at)
        if pressure is not None and pressure.pending >= 1:
            values.update(active=20, idle=0, pending=round(pressure.pending))
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError) as err:
            raise ScenarioError(f"log template {template!r}: {err}") from err
