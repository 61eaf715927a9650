"""Read a "before vs since the alert" recording back out of the investigation's own backends.

The localisation (``bot.investigation.localise``) compares a fault window with a fault-free
baseline, span by span and log line by log line. For an incident those two windows are read
through the toolbox's configured clients (the same Jaeger, log store and Prometheus, with
the same credentials and limits the tools use), not from files: every trace that passed
through the alerting entry service, every log line, and the pod resource series. The result
is a ``RecordedPack``, so the same pure localisation serves replays and live incidents.

Failures (a backend down, an unreadable answer) raise ``ToolFailure``; the caller records
them like any other tool failure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bot.investigation.recorded import LogRecord, RecordedPack, Sample, spans_from_jaeger
from tools.base import ErrorKind, Evidence, ToolFailure
from tools.logs.base import LogTool
from tools.logs.dsl import LogFilter
from tools.logs.links import discover_url
from tools.logs.stream import iter_logs
from tools.metrics.base import PrometheusTool
from tools.metrics.links import graph_url
from tools.timewindow import TimeWindow
from tools.toolbox import Toolbox
from tools.traces.links import search_url
from tools.traces.tools import JaegerTool, micros

BASELINE = timedelta(minutes=30)
"""How far before the alert's onset the fault-free baseline reaches (and metric history)."""
LONGEST_WINDOW = timedelta(minutes=15)
"""The fault window is read from the onset up to now, at most this long."""
MAX_TRACES = 1500
"""Most traces read per window (Jaeger's own cap on one search)."""
MAX_LOG_LINES = 50_000
"""Most log lines read over both windows."""
RESOURCE_SERIES = '{__name__=~"(?i).*(cpu|mem|network).*",pod!=""}'
"""Pod-level resource series (gauges; counters and histograms are left out by name)."""
_CUMULATIVE = re.compile(r"(_total|_count|_sum|_bucket|_created)$")


@dataclass
class Windows:
    """The recording read back, and one evidence item per backend call it took."""

    pack: RecordedPack
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)


def fault_windows(onset: datetime, now: datetime) -> tuple[TimeWindow, TimeWindow]:
    """The baseline (``BASELINE`` before the onset) and the fault window (onset to now)."""
    end = min(now, onset + LONGEST_WINDOW)
    return TimeWindow(onset - BASELINE, onset), TimeWindow(onset, max(end, onset))


def read_windows(toolbox: Toolbox, entry: str, onset: datetime, now: datetime) -> Windows | None:
    """Traces through ``entry``, every log line and pod resource series around ``onset``.

    None when the toolbox has no Jaeger trace search (the comparison is per operation, so
    without spans there is nothing to compare). A log store or Prometheus the toolbox lacks
    (or reaches through another kind of tool) leaves its part out.
    """
    jaeger = toolbox.get("jaeger_find_traces") if "jaeger_find_traces" in toolbox else None
    if not isinstance(jaeger, JaegerTool):
        return None
    baseline, window = fault_windows(onset, now)
    evidence: dict[str, list[Evidence]] = {}
    raw: list[dict[str, Any]] = []
    for part in (baseline, window):
        params = {
            "service": entry,
            "start": str(micros(part.start)),
            "end": str(micros(part.end)),
            "limit": str(MAX_TRACES),
        }
        raw += jaeger.api.find_traces(params)
        evidence.setdefault("traces", []).append(
            Evidence(
                tool=jaeger.name,
                query="GET /api/traces?" + urlencode(params),
                link=search_url(jaeger.ui_url, params),
                excerpt=f"traces through {entry} from {part.describe()}",
            )
        )
    unique = {str(t.get("traceID")): t for t in raw}
    spans = spans_from_jaeger({"data": list(unique.values())})
    logs = _logs(toolbox, TimeWindow(baseline.start, window.end), evidence)
    samples = _samples(toolbox, baseline.start, window.end, evidence)
    pack = RecordedPack(
        name=f"{entry}@{onset.isoformat()}",
        source="live",
        window=(window.start.timestamp(), window.end.timestamp()),
        baseline=(baseline.start.timestamp(), baseline.end.timestamp() - 1e-3),
        spans=spans,
        logs=logs,
        samples=samples,
        entry_service=entry,
    )
    return Windows(pack, evidence)


def _logs(
    toolbox: Toolbox, whole: TimeWindow, evidence: dict[str, list[Evidence]]
) -> list[LogRecord]:
    tool = toolbox.get("log_search") if "log_search" in toolbox else None
    if not isinstance(tool, LogTool):
        return []
    config = tool.config
    log_filter = LogFilter(window=whole)
    records = []
    for hit in iter_logs(tool.client, config, log_filter, max_documents=MAX_LOG_LINES):
        source = hit.source
        kube = source.get("kubernetes") or {}
        pod = str((kube.get("pod") or {}).get("name") or hit.service or "")
        records.append(
            LogRecord(
                timestamp=hit.timestamp.timestamp() if hit.timestamp else 0.0,
                service=hit.service or "",
                pod=pod,
                level=(hit.level or "").upper(),
                message=hit.message,
                trace_id=str((source.get("trace") or {}).get("id") or ""),
                span_id=str((source.get("span") or {}).get("id") or ""),
            )
        )
    evidence["logs"] = [
        Evidence(
            tool=tool.name,
            query=json.dumps({"window": whole.describe(), "lines": len(records)}),
            link=discover_url(log_filter, config),
            excerpt=f"{len(records)} log lines from {whole.describe()}",
        )
    ]
    records.sort(key=lambda r: r.timestamp)
    return records


def _samples(
    toolbox: Toolbox, start: datetime, end: datetime, evidence: dict[str, list[Evidence]]
) -> list[Sample]:
    tool = toolbox.get("prometheus_query") if "prometheus_query" in toolbox else None
    if not isinstance(tool, PrometheusTool):
        return []
    seconds = max(1, int((end - start).total_seconds()) + 1)
    expr = f"{RESOURCE_SERIES}[{seconds}s]"
    data = tool.api.query(expr, end)
    if not isinstance(data, dict) or data.get("resultType") != "matrix":
        raise ToolFailure(ErrorKind.UNAVAILABLE, "Prometheus answered a range selector oddly.")
    samples = []
    for series in data.get("result") or []:
        labels = series.get("metric") or {}
        name = str(labels.get("__name__", ""))
        if not name or _CUMULATIVE.search(name):
            continue
        pod = str(labels.get("pod", ""))
        for stamp, value in series.get("values") or []:
            samples.append(Sample(float(stamp), pod, name, float(value)))
    evidence["metrics"] = [
        Evidence(
            tool=tool.name,
            query=expr,
            link=graph_url(tool.ui_url, RESOURCE_SERIES, end=end, span=end - start),
            excerpt=f"{len(samples)} pod resource samples up to {end.astimezone(UTC):%H:%M:%S}Z",
        )
    ]
    return samples
