"""Adapter: the Nezha dataset layout (fault/ and normal/ days of gzip CSVs) to recorded packs.

Layout read (every day found under ``fault/``)::

    fault/<day>/<day>-fault_list.json   {hour: [{inject_time, inject_pod, inject_type}, ...]}
    fault/<day>/trace/HH_MM_trace.csv.gz  spans of the minute ending at HH:MM:08
    fault/<day>/log/HH_MM_log.csv.gz      container log lines of the same minutes
    fault/<day>/metric/*.csv.gz           one row a minute per pod; the file without a pod
                                          column is the entry point's success rate/latency
    normal/<day>/{trace,log}/             a fault-free period: the baseline

``inject_time`` is UTC and agrees with the telemetry's clocks (``inject_timestamp`` does not
always, so it is not used). The baseline period is moved to end just before the fault window,
so that every pack reads like production: fault-free before, faulty now.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.analysis.logmine import detect_level
from bot.investigation.recorded import (
    FaultKind,
    LogRecord,
    RecordedPack,
    Sample,
    Span,
    Truth,
    workload_of_pod,
)

WINDOW_SECONDS = 180.0
"""How long after the injection the fault window lasts (the dataset keeps ~3 minutes)."""
METRIC_HISTORY_SECONDS = 1800.0
"""How much metric history before the fault a pack carries."""
BASELINE_GAP_SECONDS = 60.0
"""Gap between the end of the (moved) baseline and the injection."""

_KINDS: dict[str, FaultKind] = {
    "exception": "error",
    "return": "wrong-result",
    "cpu_contention": "cpu",
    "cpu_consumed": "cpu",
    "network_delay": "latency",
    "memory": "memory",
}


@dataclass(frozen=True)
class NezhaFault:
    """One labelled injection of a Nezha day."""

    day: str
    inject_time: datetime
    pod: str
    kind: FaultKind

    @property
    def label(self) -> str:
        """``HH_MM`` of the injection, as the dataset names its minute files."""
        return self.inject_time.strftime("%H_%M")


def find_faults(root: Path) -> list[NezhaFault]:
    """Every fault of every day under ``root/fault``, in injection order."""
    faults = []
    for day_dir in sorted(p for p in (root / "fault").iterdir() if p.is_dir()):
        listing = day_dir / f"{day_dir.name}-fault_list.json"
        if not listing.exists():
            continue
        for entries in json.loads(listing.read_text()).values():
            for entry in entries:
                when = datetime.strptime(entry["inject_time"], "%Y-%m-%d %H:%M:%S")
                faults.append(
                    NezhaFault(
                        day=day_dir.name,
                        inject_time=when.replace(tzinfo=UTC),
                        pod=entry["inject_pod"],
                        kind=_KINDS.get(entry["inject_type"], "unknown"),
                    )
                )
    return sorted(faults, key=lambda f: f.inject_time)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with gzip.open(path, "rt", newline="") as src:
        yield from csv.DictReader(src)


def _read_spans(path: Path) -> list[Span]:
    spans = []
    for row in _rows(path):
        pod = row["PodName"]
        parent = row["ParentID"]
        start = int(row["StartTimeUnixNano"]) / 1e9
        spans.append(
            Span(
                trace_id=row["TraceID"],
                span_id=row["SpanID"],
                parent_id=None if parent in ("", "root") else parent,
                service=workload_of_pod(pod),
                pod=pod,
                operation=row["OperationName"],
                start=start,
                duration_ms=float(row["Duration"]) / 1e3,
            )
        )
    return spans


def _read_logs(path: Path) -> list[LogRecord]:
    logs = []
    for row in _rows(path):
        raw = row["Log"]
        try:
            line = str(json.loads(raw).get("log", raw))
        except (ValueError, AttributeError):
            line = raw
        line = line.rstrip("\n")
        pod = row["PodName"]
        logs.append(
            LogRecord(
                timestamp=int(row["TimeUnixNano"]) / 1e9,
                service=workload_of_pod(pod),
                pod=pod,
                level=detect_level(line).value,
                message=line,
                trace_id=row.get("TraceID") or "",
                span_id=row.get("SpanID") or "",
            )
        )
    return logs


def _minute_files(directory: Path, suffix: str, start: datetime, minutes: int) -> list[Path]:
    stamp = start.timestamp()
    names = [
        datetime.fromtimestamp(stamp + 60 * i, UTC).strftime("%H_%M") for i in range(minutes + 1)
    ]
    return [
        directory / f"{n}_{suffix}.csv.gz"
        for n in names
        if (directory / f"{n}_{suffix}.csv.gz").exists()
    ]


def _read_metrics(directory: Path, entry: str) -> list[Sample]:
    samples = []
    for path in sorted(directory.glob("*.csv.gz")):
        for row in _rows(path):
            pod = row.get("PodName") or entry
            stamp = float(row["TimeStamp"])
            for key, value in row.items():
                if key in ("Time", "TimeStamp", "PodName", "ServiceName") or value in ("", None):
                    continue
                try:
                    number = float(value)
                except ValueError:
                    continue
                if math.isfinite(number):
                    samples.append(Sample(stamp, pod, key, number))
    return samples


def entry_service(spans: list[Span]) -> str:
    """The service that owns most root spans: where users' requests come in."""
    roots = Counter(s.service for s in spans if s.parent_id is None)
    return roots.most_common(1)[0][0] if roots else ""


class NezhaDay:
    """One day's data, read once and cut into one pack per fault."""

    def __init__(self, root: Path, day: str) -> None:
        self.root = root
        self.day = day
        normal = root / "normal" / day
        self.baseline_spans = [
            s for p in sorted((normal / "trace").glob("*.csv.gz")) for s in _read_spans(p)
        ]
        self.baseline_logs = [
            r for p in sorted((normal / "log").glob("*.csv.gz")) for r in _read_logs(p)
        ]
        self.entry = entry_service(self.baseline_spans)
        self.samples = _read_metrics(root / "fault" / day / "metric", self.entry)

    def pack(self, fault: NezhaFault) -> RecordedPack:
        """The recorded pack of one fault: its window, the moved baseline, metrics, truth."""
        fault_dir = self.root / "fault" / self.day
        start = fault.inject_time.timestamp()
        spans = [
            s
            for p in _minute_files(fault_dir / "trace", "trace", fault.inject_time, 3)
            for s in _read_spans(p)
            if start <= s.start < start + WINDOW_SECONDS
        ]
        logs = [
            r
            for p in _minute_files(fault_dir / "log", "log", fault.inject_time, 3)
            for r in _read_logs(p)
            if start <= r.timestamp < start + WINDOW_SECONDS
        ]
        end = max([s.start for s in spans] + [r.timestamp for r in logs] + [start + 1.0])
        base_times = [s.start for s in self.baseline_spans] + [
            r.timestamp for r in self.baseline_logs
        ]
        shift = (start - BASELINE_GAP_SECONDS) - max(base_times, default=start)
        base_start = min(base_times, default=start) + shift
        spans = [_moved_span(s, shift) for s in self.baseline_spans] + spans
        logs = [_moved_log(r, shift) for r in self.baseline_logs] + logs
        samples = [
            s for s in self.samples if start - METRIC_HISTORY_SECONDS <= s.timestamp <= end + 60
        ]
        pods = sorted({s.pod for s in self.samples if s.pod != self.entry})
        pack = RecordedPack(
            name=f"nezha-{self.day}-{fault.label}",
            source="nezha",
            window=(start, end),
            baseline=(base_start, start - BASELINE_GAP_SECONDS),
            spans=spans,
            logs=logs,
            samples=samples,
            objects=kube_objects(pods),
            entry_service=self.entry,
            truth=Truth(workload_of_pod(fault.pod), fault.kind, fault.pod),
        )
        pack.alerts = [entry_alert(pack)]
        return pack


def _moved_span(span: Span, shift: float) -> Span:
    return Span(
        span.trace_id,
        span.span_id,
        span.parent_id,
        span.service,
        span.pod,
        span.operation,
        span.start + shift,
        span.duration_ms,
        span.error,
    )


def _moved_log(record: LogRecord, shift: float) -> LogRecord:
    return LogRecord(
        record.timestamp + shift,
        record.service,
        record.pod,
        record.level,
        record.message,
        record.trace_id,
        record.span_id,
    )


def kube_objects(pods: list[str]) -> list[dict[str, Any]]:
    """A Deployment per workload and a Running Pod per recorded pod (namespace ``default``)."""
    objects: list[dict[str, Any]] = []
    for workload in sorted({workload_of_pod(p) for p in pods}):
        labels = {"app": workload}
        objects.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": workload, "namespace": "default", "labels": labels},
                "spec": {
                    "replicas": sum(1 for p in pods if workload_of_pod(p) == workload),
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "server", "image": workload}]},
                    },
                },
            }
        )
    for pod in pods:
        workload = workload_of_pod(pod)
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": pod, "namespace": "default", "labels": {"app": workload}},
                "spec": {"containers": [{"name": "server", "image": workload}]},
                "status": {"phase": "Running"},
            }
        )
    return objects


def entry_alert(pack: RecordedPack) -> dict[str, Any]:
    """The alert a user would have had: the entry service's SLO, from its own metrics.

    The success rate is used when it varies over the history; otherwise (a flat series
    carries no signal) the p90 latency, compared with its median before the fault.
    """
    mine = [s for s in pack.samples if s.pod == pack.entry_service]
    start = pack.window[0]

    def series(metric: str) -> tuple[list[float], list[float]]:
        before = [s.value for s in mine if s.metric == metric and s.timestamp < start]
        now = [s.value for s in mine if s.metric == metric and s.timestamp >= start]
        return before, now

    before, now = series("SuccessRate(%)")
    if len(set(before)) > 1 and now:
        name, value, usual = "EntrySuccessRateLow", min(now), sorted(before)[len(before) // 2]
        text = f"success rate {value:.1f}% (usually {usual:.1f}%)"
    else:
        before, now = series("LatencyP90(s)")
        value = max(now, default=0.0)
        usual = sorted(before)[len(before) // 2] if before else 0.0
        name, text = "EntryLatencyHigh", f"p90 latency {value:.2f}s (usually {usual:.2f}s)"
    return {
        "status": "firing",
        "labels": {"alertname": name, "service": pack.entry_service, "severity": "page"},
        "annotations": {"summary": f"{pack.entry_service}: {text}"},
        "startsAt": datetime.fromtimestamp(start, UTC).isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": hashlib.sha256(f"{pack.name}/{name}".encode()).hexdigest()[:16],
    }
