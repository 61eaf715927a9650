"""A span tree with timing, and its rendering into Jaeger's JSON model.

A `SpanNode` holds its own work time and its children in *stages*: the nodes of one stage
run concurrently, stages run one after the other. `lay_out` turns that into start times and
durations, so a parent always encloses its children.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

TagValue = str | int | float | bool
Json = dict[str, Any]


@dataclass(frozen=True)
class SpanLog:
    """A log event; it is stamped shortly before the span ends (where errors surface)."""

    fields: Mapping[str, TagValue]


@dataclass
class SpanNode:
    service: str
    operation: str
    self_us: int
    tags: dict[str, TagValue] = field(default_factory=dict)
    stages: list[list[SpanNode]] = field(default_factory=list)
    logs: list[SpanLog] = field(default_factory=list)
    start_us: int = 0
    duration_us: int = 0
    span_id: str = ""

    def walk(self) -> Iterator[SpanNode]:
        yield self
        for stage in self.stages:
            for child in stage:
                yield from child.walk()

    def children(self) -> list[SpanNode]:
        return [child for stage in self.stages for child in stage]

    @property
    def kind(self) -> str:
        return str(self.tags.get("span.kind", ""))


def jitter(rng: random.Random, base_us: float, spread: float = 0.25) -> int:
    """A duration around `base_us` with a long right tail, never below 1 µs."""
    return max(1, int(base_us * rng.lognormvariate(0.0, spread)))


def lay_out(node: SpanNode, start_us: int, rng: random.Random) -> int:
    """Assign start/duration to the subtree; returns the node's end time."""
    node.start_us = start_us
    before = node.self_us // 2
    cursor = start_us + before
    for stage in node.stages:
        ends = [
            lay_out(child, cursor + index * rng.randint(20, 120), rng)
            for index, child in enumerate(stage)
        ]
        cursor = max(ends, default=cursor) + rng.randint(10, 60)
    end = cursor + node.self_us - before
    node.duration_us = end - start_us
    return end


@dataclass(frozen=True)
class ProcessInfo:
    service: str
    hostname: str
    ip: str
    jaeger_version: str = "Go-2.30.0"

    def to_json(self) -> Json:
        return {
            "serviceName": self.service,
            "tags": [
                typed_tag("hostname", self.hostname),
                typed_tag("ip", self.ip),
                typed_tag("jaeger.version", self.jaeger_version),
            ],
        }


def process_for(service: str, rng: random.Random) -> ProcessInfo:
    suffix = "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
    replica = f"{rng.getrandbits(32):08x}"[:9]
    ip = f"10.42.{rng.randint(0, 15)}.{rng.randint(2, 254)}"
    return ProcessInfo(service=service, hostname=f"{service}-{replica}-{suffix}", ip=ip)


def typed_tag(key: str, value: TagValue) -> Json:
    if isinstance(value, bool):
        kind = "bool"
    elif isinstance(value, int):
        kind = "int64"
    elif isinstance(value, float):
        kind = "float64"
    else:
        kind = "string"
    return {"key": key, "type": kind, "value": value}


def to_jaeger_trace(
    root: SpanNode,
    trace_id: str,
    processes: Mapping[str, ProcessInfo],
    rng: random.Random,
) -> Json:
    """Render a laid-out tree; span ids are drawn from `rng`, processes keyed p1, p2, ..."""
    process_ids: dict[str, str] = {}
    spans: list[Json] = []

    def render(node: SpanNode, parent: SpanNode | None) -> None:
        node.span_id = f"{rng.getrandbits(64) | 1:016x}"
        pid = process_ids.setdefault(node.service, f"p{len(process_ids) + 1}")
        references = []
        if parent is not None:
            references.append(
                {"refType": "CHILD_OF", "traceID": trace_id, "spanID": parent.span_id}
            )
        spans.append(
            {
                "traceID": trace_id,
                "spanID": node.span_id,
                "flags": 1,
                "operationName": node.operation,
                "references": references,
                "startTime": node.start_us,
                "duration": node.duration_us,
                "tags": [typed_tag(key, value) for key, value in node.tags.items()],
                "logs": [
                    {
                        "timestamp": node.start_us
                        + node.duration_us
                        - max(1, node.duration_us // 10),
                        "fields": [typed_tag(key, value) for key, value in log.fields.items()],
                    }
                    for log in node.logs
                ],
                "processID": pid,
                "warnings": None,
            }
        )
        for child in node.children():
            render(child, node)

    render(root, None)
    spans.sort(key=lambda span: int(span["startTime"]))
    return {
        "traceID": trace_id,
        "spans": spans,
        "processes": {pid: processes[service].to_json() for service, pid in process_ids.items()},
        "warnings": None,
    }
