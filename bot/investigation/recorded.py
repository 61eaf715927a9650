"""Recorded incidents: telemetry someone else captured around a real fault, as one pack.

A recorded pack is the importer-neutral shape every public dataset is converted into, so that
replay, localisation and scoring never know where the data came from. On disk a pack is a
directory:

``pack.json``
    ``{"name", "source", "window": [start, end], "baseline": [start, end], "entry_service",
    "truth": {"service", "kind", "pod"} | null}``; times are UNIX seconds (UTC). The baseline
    window lies *before* the fault window, as it would in production ("before vs now").
``traces.json``
    Jaeger query-API JSON (``{"data": [{"traceID", "spans": [...], "processes": {...}}]}``);
    a span's process ``serviceName`` is the pod's workload, the ``pod`` process tag its pod,
    ``error=true`` its error tag.
``logs.jsonl``
    one JSON object a line: ``{"timestamp", "service", "pod", "level", "message",
    "trace_id", "span_id"}``.
``metrics.csv``
    ``timestamp,pod,metric,value`` (one sample a row; metric names as recorded).
``kube.json``
    Kubernetes objects (``apps/v1`` Deployments and ``v1`` Pods) as a list.
``alerts.json``
    the Alertmanager webhook (v4) alerts a user would have received.

Fault kinds are one small vocabulary (``FaultKind``) so datasets map their labels onto it.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

FaultKind = Literal["error", "wrong-result", "latency", "cpu", "memory", "unknown"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

_POD_SUFFIX = re.compile(r"-(?:[a-z0-9]{6,10}-)?[a-z0-9]{5}$|-\d+$")


def workload_of_pod(pod: str) -> str:
    """The Deployment (or StatefulSet) a pod belongs to, from Kubernetes' naming convention.

    ``name-<replicaset hash>-<5 chars>``, ``name-<5 chars>`` and a StatefulSet's
    ``name-<ordinal>`` all give ``name``.
    """
    stripped = _POD_SUFFIX.sub("", pod)
    return stripped or pod


@dataclass(frozen=True)
class Span:
    """One span: who did what, when, for how long, and whether it failed."""

    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    pod: str
    operation: str
    start: float
    """Start, UNIX seconds."""
    duration_ms: float
    error: bool = False


@dataclass(frozen=True)
class LogRecord:
    """One log line of one pod; ``message`` is the application's text, untrusted."""

    timestamp: float
    service: str
    pod: str
    level: str
    message: str
    trace_id: str = ""
    span_id: str = ""


@dataclass(frozen=True)
class Sample:
    """One metric sample of one pod."""

    timestamp: float
    pod: str
    metric: str
    value: float


@dataclass(frozen=True)
class Truth:
    """What was injected: the faulty service (and pod) and the kind of fault."""

    service: str
    kind: FaultKind
    pod: str = ""


@dataclass
class RecordedPack:
    """One recorded incident: the fault window, a fault-free baseline before it, and truth."""

    name: str
    source: str
    window: tuple[float, float]
    baseline: tuple[float, float]
    spans: list[Span] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    entry_service: str = ""
    truth: Truth | None = None


def write_pack(pack: RecordedPack, directory: Path) -> None:
    """Write ``pack`` in the documented on-disk shape (the directory is created)."""
    directory.mkdir(parents=True, exist_ok=True)
    meta = {
        "name": pack.name,
        "source": pack.source,
        "window": list(pack.window),
        "baseline": list(pack.baseline),
        "entry_service": pack.entry_service,
        "truth": asdict(pack.truth) if pack.truth else None,
    }
    (directory / "pack.json").write_text(json.dumps(meta, indent=2))
    (directory / "traces.json").write_text(json.dumps(jaeger_json(pack.spans)))
    with (directory / "logs.jsonl").open("w") as out:
        for record in pack.logs:
            out.write(json.dumps(asdict(record)) + "\n")
    with (directory / "metrics.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["timestamp", "pod", "metric", "value"])
        for s in pack.samples:
            writer.writerow([s.timestamp, s.pod, s.metric, s.value])
    (directory / "kube.json").write_text(json.dumps(pack.objects))
    (directory / "alerts.json").write_text(json.dumps(pack.alerts))


def read_pack(directory: Path) -> RecordedPack:
    """Read a pack written by ``write_pack`` (or by hand in the same shape)."""
    meta = json.loads((directory / "pack.json").read_text())
    truth = meta.get("truth")
    logs = [
        LogRecord(**json.loads(line))
        for line in (directory / "logs.jsonl").read_text().splitlines()
        if line.strip()
    ]
    with (directory / "metrics.csv").open(newline="") as src:
        samples = [
            Sample(float(r["timestamp"]), r["pod"], r["metric"], float(r["value"]))
            for r in csv.DictReader(src)
        ]
    return RecordedPack(
        name=meta["name"],
        source=meta["source"],
        window=(float(meta["window"][0]), float(meta["window"][1])),
        baseline=(float(meta["baseline"][0]), float(meta["baseline"][1])),
        spans=spans_from_jaeger(json.loads((directory / "traces.json").read_text())),
        logs=logs,
        samples=samples,
        objects=json.loads((directory / "kube.json").read_text()),
        alerts=json.loads((directory / "alerts.json").read_text()),
        entry_service=meta.get("entry_service", ""),
        truth=Truth(truth["service"], _kind(truth["kind"]), truth.get("pod", ""))
        if truth
        else None,
    )


def _kind(value: str) -> FaultKind:
    for kind in FAULT_KINDS:
        if kind == value:
            return kind
    return "unknown"


def jaeger_json(spans: Iterable[Span]) -> dict[str, Any]:
    """Spans in the Jaeger query API's JSON model, one trace per trace id."""
    by_trace: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span)
    data = []
    for trace_id, members in by_trace.items():
        processes: dict[str, str] = {}
        out = []
        for span in members:
            pid = processes.setdefault(span.pod, f"p{len(processes) + 1}")
            tags = [{"key": "error", "type": "bool", "value": True}] if span.error else []
            refs = (
                [{"refType": "CHILD_OF", "traceID": trace_id, "spanID": span.parent_id}]
                if span.parent_id
                else []
            )
            out.append(
                {
                    "traceID": trace_id,
                    "spanID": span.span_id,
                    "operationName": span.operation,
                    "references": refs,
                    "startTime": round(span.start * 1e6),
                    "duration": round(span.duration_ms * 1e3),
                    "tags": tags,
                    "logs": [],
                    "processID": pid,
                    "warnings": None,
                }
            )
        procs = {
            pid: {
                "serviceName": workload_of_pod(pod),
                "tags": [{"key": "pod", "type": "string", "value": pod}],
            }
            for pod, pid in processes.items()
        }
        data.append({"traceID": trace_id, "spans": out, "processes": procs, "warnings": None})
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}


def spans_from_jaeger(doc: dict[str, Any]) -> list[Span]:
    """The spans of a Jaeger query-API JSON document."""
    spans = []
    for trace in doc.get("data") or []:
        procs = trace.get("processes") or {}
        for raw in trace.get("spans") or []:
            proc = procs.get(raw.get("processID"), {})
            pod = next(
                (str(t["value"]) for t in proc.get("tags") or [] if t.get("key") == "pod"),
                str(proc.get("serviceName", "")),
            )
            parent = next(
                (r["spanID"] for r in raw.get("references") or [] if r["refType"] == "CHILD_OF"),
                None,
            )
            error = any(t.get("key") == "error" and t.get("value") for t in raw.get("tags") or [])
            spans.append(
                Span(
                    trace_id=raw["traceID"],
                    span_id=raw["spanID"],
                    parent_id=parent,
                    service=str(proc.get("serviceName", "")),
                    pod=pod,
                    operation=raw["operationName"],
                    start=raw["startTime"] / 1e6,
                    duration_ms=raw["duration"] / 1e3,
                    error=bool(error),
                )
            )
    return spans
