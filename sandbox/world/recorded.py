"""A recorded pack (the on-disk shape of ``bot.investigation.recorded``) in the sandbox's
backends' own formats.

``World.load_recorded`` reads a pack directory (``traces.json`` Jaeger JSON, ``logs.jsonl``,
``metrics.csv``, ``kube.json``, ``alerts.json``), moves it so its last moment is "now", and
puts it where a production opsbot would read it: samples become an OpenMetrics history for
Prometheus' backfill, log lines ECS documents for the OpenSearch-API store, spans Jaeger
traces, and the Deployments a seed for the Kubernetes stand-in. Pure conversions here; the
World does the loading. The sandbox reads only the documented files, never the bot's code.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Json = dict[str, Any]
NAMESPACE = "default"
_NOT_NAME = re.compile(r"[^a-zA-Z0-9_:]+")


@dataclass
class Recording:
    """A pack's telemetry as read from disk: Jaeger traces, log lines, samples, objects."""

    traces: list[Json]
    logs: list[Json]
    samples: list[tuple[float, str, str, float]]
    """(timestamp, pod, metric, value)."""
    objects: list[Json]
    alerts: list[Json]

    @classmethod
    def read(cls, directory: Path) -> Recording:
        """Read the pack files of ``directory``."""
        with (directory / "metrics.csv").open(newline="") as src:
            samples = [
                (float(r["timestamp"]), r["pod"], r["metric"], float(r["value"]))
                for r in csv.DictReader(src)
            ]
        return cls(
            traces=list(json.loads((directory / "traces.json").read_text()).get("data") or []),
            logs=[
                json.loads(line)
                for line in (directory / "logs.jsonl").read_text().splitlines()
                if line.strip()
            ],
            samples=samples,
            objects=json.loads((directory / "kube.json").read_text()),
            alerts=json.loads((directory / "alerts.json").read_text()),
        )

    def latest(self) -> float:
        """The last moment of the recording (span start, log line or sample)."""
        stamps = [s[0] for s in self.samples] + [float(r["timestamp"]) for r in self.logs]
        stamps += [int(s["startTime"]) / 1e6 for t in self.traces for s in t.get("spans") or []]
        return max(stamps, default=0.0)

    def moved(self, seconds: float) -> Recording:
        """The same recording ``seconds`` later (alerts' ``startsAt`` too)."""
        micros = round(seconds * 1e6)
        traces = copy.deepcopy(self.traces)
        for trace in traces:
            for span in trace.get("spans") or []:
                span["startTime"] = int(span["startTime"]) + micros
        alerts = [_moved_alert(alert, seconds) for alert in self.alerts]
        return Recording(
            traces=traces,
            logs=[{**r, "timestamp": float(r["timestamp"]) + seconds} for r in self.logs],
            samples=[(t + seconds, pod, m, v) for t, pod, m, v in self.samples],
            objects=self.objects,
            alerts=alerts,
        )


def _moved_alert(alert: Json, seconds: float) -> Json:
    starts = alert.get("startsAt")
    if not starts:
        return dict(alert)
    at = datetime.fromisoformat(str(starts).replace("Z", "+00:00")).timestamp()
    return {**alert, "startsAt": _stamp(at + seconds)}


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def metric_name(recorded: str) -> str:
    """A Prometheus metric name for a recorded one: ``CpuUsageRate(%)`` -> ``CpuUsageRate_``."""
    name = _NOT_NAME.sub("_", recorded)
    return name if re.match(r"[a-zA-Z_:]", name) else f"recorded_{name}"


def _label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def openmetrics_text(
    samples: list[tuple[float, str, str, float]], namespace: str = NAMESPACE
) -> str:
    """One gauge family per recorded metric, one series per pod, samples in time order."""
    families: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for stamp, pod, metric, value in samples:
        families[metric_name(metric)][pod].append((stamp, value))
    lines = []
    for name in sorted(families):
        lines.append(f"# TYPE {name} gauge")
        for pod, points in sorted(families[name].items()):
            labels = f'namespace="{namespace}",pod="{_label_value(pod)}"'
            last = None
            for stamp, value in sorted(points):
                if stamp == last:
                    continue  # OpenMetrics refuses two samples of a series at one moment
                last = stamp
                lines.append(f"{name}{{{labels}}} {value!r} {stamp:.3f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def log_document(record: Json, namespace: str = NAMESPACE) -> Json:
    """A ``logs.jsonl`` line as the ECS document the sandbox's log store holds."""
    doc: Json = {
        "@timestamp": _stamp(float(record["timestamp"])),
        "message": str(record.get("message", "")),
        "log": {"level": str(record.get("level", ""))},
        "service": {"name": str(record.get("service", ""))},
        "kubernetes": {"namespace": namespace, "pod": {"name": str(record.get("pod", ""))}},
    }
    if record.get("trace_id"):
        doc["trace"] = {"id": str(record["trace_id"])}
    if record.get("span_id"):
        doc["span"] = {"id": str(record["span_id"])}
    return doc


def kube_seed(objects: list[Json]) -> Json:
    """The seed for the Kubernetes stand-in: the pack's Deployments (their pods are made by
    the stand-in's controllers; recorded Pod objects are not created a second time)."""
    return {"objects": [o for o in objects if o.get("kind") != "Pod"]}
