"""A scenario's traces: the shop's normal checkouts, then the incident's, in Jaeger JSON.

Built with sandbox.jaeger.generate_traces; each span's process is then set to a pod that
served the service at that moment (hostname = pod name, ip = pod IP), as the OpenTelemetry
Kubernetes resource detectors would report it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.jaeger import (
    ErrorResponses,
    NPlusOneQueries,
    SequentialCalls,
    SlowDependency,
    generate_traces,
)
from sandbox.jaeger.generate import TracePattern
from sandbox.scenarios.catalog import Scenario
from sandbox.scenarios.frames import ClusterHistory, PodFrame
from sandbox.scenarios.shop import NAMESPACE
from sandbox.scenarios.spec import TracePattern as PatternSpec
from sandbox.scenarios.timeline import Timeline

Json = dict[str, Any]
WINDOW = 2 * 3600  # traces cover this long before now
MICROS = 1_000_000

PATTERN_TYPES: dict[str, type[Any]] = {
    "slow_dependency": SlowDependency,
    "n_plus_one": NPlusOneQueries,
    "sequential_calls": SequentialCalls,
    "error_responses": ErrorResponses,
}


def build_pattern(spec: PatternSpec) -> TracePattern:
    pattern: TracePattern = PATTERN_TYPES[spec.kind](**spec.options)
    return pattern


def scenario_traces(scenario: Scenario, history: ClusterHistory, timeline: Timeline) -> list[Json]:
    spec = scenario.spec.traces
    begin = max(timeline.start, timeline.now - WINDOW)
    turn = max(begin, timeline.incident)
    normal_hours = (turn - begin) / 3600
    incident_hours = (timeline.now - turn) / 3600
    normal = generate_traces(
        count=max(1, round(spec.normal_per_hour * normal_hours)),
        seed=scenario.random_seed,
        end_us=turn * MICROS,
        interval_us=3600 * MICROS // max(1, spec.normal_per_hour),
    )
    incident = generate_traces(
        count=max(1, round(spec.incident_per_hour * incident_hours)),
        seed=scenario.random_seed + 1,
        end_us=timeline.now * MICROS,
        interval_us=3600 * MICROS // max(1, spec.incident_per_hour),
        patterns=[build_pattern(p) for p in spec.patterns],
    )
    traces = normal + incident
    for trace in traces:
        place_on_pods(trace, history)
    return traces


def place_on_pods(trace: Json, history: ClusterHistory) -> None:
    """Name the pods that served each span; a service with no serving pod never saw the
    request, so its spans go and the caller's call fails with 503 (no healthy upstream)."""
    start = min(int(span["startTime"]) for span in trace["spans"]) / MICROS
    frame = history.at(start)
    unreachable = []
    for pid, process in trace["processes"].items():
        service = process["serviceName"]
        pods = [p for p in frame.pods if p.workload == service and p.namespace == NAMESPACE]
        serving = [p for p in pods if p.serving]
        if not serving:
            unreachable.append(pid)
            continue
        pod = _pick(serving, trace["traceID"] + service)
        for tag in process["tags"]:
            if tag["key"] == "hostname":
                tag["value"] = pod.name
            elif tag["key"] == "ip":
                tag["value"] = pod.pod_ip
    for pid in unreachable:
        _drop_unreachable(trace, pid)
        used = {span["processID"] for span in trace["spans"]}
        trace["processes"] = {k: v for k, v in trace["processes"].items() if k in used}


def _drop_unreachable(trace: Json, pid: str) -> None:
    spans = trace["spans"]
    by_id = {span["spanID"]: span for span in spans}
    gone: set[str] = set()
    for span in spans:  # spans are in start order, so parents come first
        parents = [ref["spanID"] for ref in span.get("references") or []]
        if span["processID"] == pid or any(parent in gone for parent in parents):
            gone.add(span["spanID"])
            for parent in parents:
                caller = by_id.get(parent)
                if caller is not None and caller["processID"] != pid and parent not in gone:
                    _fail(caller)
    trace["spans"] = [span for span in spans if span["spanID"] not in gone]


def _fail(span: Json) -> None:
    replaced = ("http.status_code", "error", "otel.status_code", "otel.status_description")
    tags = [t for t in span["tags"] if t["key"] not in replaced]
    tags += [
        {"key": "http.status_code", "type": "int64", "value": 503},
        {"key": "error", "type": "bool", "value": True},
        {"key": "otel.status_code", "type": "string", "value": "ERROR"},
        {"key": "otel.status_description", "type": "string", "value": "no healthy upstream"},
    ]
    span["tags"] = tags


def _pick(pods: list[PodFrame], key: str) -> PodFrame:
    digest = hashlib.blake2b(key.encode(), digest_size=4).digest()
    return sorted(pods, key=lambda p: p.name)[int.from_bytes(digest, "big") % len(pods)]


@dataclass(frozen=True)
class ServerSpan:
    """One request as the service that served it saw it (for request logs)."""

    trace_id: str
    span_id: str
    service: str
    pod: str
    operation: str
    status: int
    start_us: int
    duration_us: int
    error: str | None


def server_spans(traces: list[Json]) -> Iterator[ServerSpan]:
    for trace in traces:
        for span in trace["spans"]:
            tags = {tag["key"]: tag["value"] for tag in span.get("tags") or []}
            if tags.get("span.kind") != "server":
                continue
            process = trace["processes"][span["processID"]]
            host = {t["key"]: t["value"] for t in process["tags"]}.get("hostname", "")
            error = tags.get("otel.status_description")
            yield ServerSpan(
                trace_id=trace["traceID"],
                span_id=span["spanID"],
                service=process["serviceName"],
                pod=str(host),
                operation=span["operationName"],
                status=int(tags.get("http.status_code", 200)),
                start_us=int(span["startTime"]),
                duration_us=int(span["duration"]),
                error=str(error) if error else None,
            )
