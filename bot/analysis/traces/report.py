"""The performance report's trace analysis: fetch a sample and the slow traces from Jaeger,
analyse each, build the service dependency graph and recommend what to fix.

Per service: a sample of the window's traces (for the graph and latency percentiles), then
the traces over the sample's p90 (`minDuration`, so the slow ones are found across the
whole window, not only among the newest). Recommendations carry a confidence (0..1) and the
evidence trace ids (see `bot.analysis.traces.advice`); `file_issues` files the top ones on GitHub.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel

from bot.analysis.traces import TraceTree, analyse_trace, build_tree, parse_trace, percentile
from bot.analysis.traces.advice import (
    Edge,
    Recommendation,
    error_advice,
    n_plus_one_advice,
    repeated_call_advice,
    sequential_advice,
    slow_dependency_advice,
)
from bot.analysis.traces.analysis import summarise_traces
from bot.analysis.traces.patterns import call_target, error_spans
from bot.analysis.traces.results import OperationStats
from bot.analysis.traces.tree import SpanNode
from bot.errors import DependencyDown
from tools.timewindow import TimeWindow
from tools.traces.api import JaegerApi
from tools.traces.links import trace_url

ISSUE_LABEL = "opsbot"


class TraceReport(BaseModel):
    services: list[str]
    window_start: datetime
    window_end: datetime
    trace_count: int
    slow_threshold_ms: float
    slow_trace_ids: list[str]
    operations: list[OperationStats]
    edges: list[Edge]
    recommendations: list[Recommendation]
    notes: list[str] = []  # what was looked at and not reported, and why


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def fetch_traces(
    api: JaegerApi,
    service: str,
    window: TimeWindow,
    *,
    limit: int,
    min_duration_us: int = 0,
    operation: str | None = None,
) -> list[TraceTree]:
    params = {
        "service": service,
        "start": str(_micros(window.start)),
        "end": str(_micros(window.end)),
        "limit": str(limit),
    }
    if min_duration_us:
        params["minDuration"] = f"{min_duration_us}us"
    if operation:
        params["operation"] = operation
    return [build_tree(parse_trace(raw)) for raw in api.find_traces(params)]


def _is_call(node: SpanNode) -> bool:
    kind = node.span.tag("span.kind")
    if kind in ("client", "producer"):
        return True
    return kind is None and isinstance(node.span.tag("peer.service"), str)


def call_targets(trees: Iterable[TraceTree]) -> dict[tuple[str, str], str]:
    """(service, operation) of each call span -> the service it calls."""
    found: dict[tuple[str, str], str] = {}
    for tree in trees:
        for node in tree.nodes.values():
            if _is_call(node) and (target := call_target(node)) is not None:
                found.setdefault((node.service, node.operation), target)
    return found


def dependency_edges(trees: Iterable[TraceTree]) -> list[Edge]:
    """Service-to-service calls: client spans (to their peer), and cross-service children
    whose parent is not itself the client span of that call (uninstrumented callers)."""
    durations: dict[tuple[str, str], list[int]] = defaultdict(list)
    errors: dict[tuple[str, str], int] = defaultdict(int)
    for tree in trees:
        failed = {e.span.span_id for e in error_spans(tree)}
        for node in tree.nodes.values():
            parent = node.parent
            if _is_call(node):
                caller, target = node.service, call_target(node)
            elif parent is not None and parent.service != node.service and not _is_call(parent):
                caller, target = parent.service, node.service
            else:
                continue
            if target is None or target == caller:
                continue
            durations[(caller, target)].append(node.duration)
            errors[(caller, target)] += node.uid in failed
    edges = []
    for (caller, callee), values in sorted(durations.items()):
        values.sort()
        edges.append(
            Edge(
                caller=caller,
                callee=callee,
                calls=len(values),
                errors=errors[(caller, callee)],
                p50_ms=percentile(values, 50) / 1000,
                p95_ms=percentile(values, 95) / 1000,
            )
        )
    return edges


@dataclass(frozen=True)
class SlowSelection:
    """Which traces count as slow: over `min_duration_us` when set, else the slowest
    `per_operation` of each operation when set, else those over the sample's `quantile`."""

    quantile: float = 90.0
    min_duration_us: int | None = None
    per_operation: int = 0


def collect(
    api: JaegerApi,
    services: Sequence[str],
    window: TimeWindow,
    max_traces: int,
    selection: SlowSelection,
) -> tuple[list[TraceTree], set[str], int]:
    """A sample of each service's traces plus its slow ones: the traces, the slow ones'
    ids and the slow threshold (microseconds)."""
    sample: dict[str, TraceTree] = {}
    slow: dict[str, TraceTree] = {}
    for service in services:
        found = [t for t in fetch_traces(api, service, window, limit=max_traces) if t.nodes]
        sample.update((t.trace_id, t) for t in found)
        if selection.min_duration_us is None and selection.per_operation:
            for operation in api.operations(service):
                ranked = fetch_traces(api, service, window, limit=max_traces, operation=operation)
                ranked.sort(key=lambda t: -t.duration)
                slow.update((t.trace_id, t) for t in ranked[: selection.per_operation] if t.nodes)
            continue
        durations = sorted(t.duration for t in found)
        cut = selection.min_duration_us
        if cut is None:
            cut = int(percentile(durations, selection.quantile)) if durations else 0
        over = fetch_traces(api, service, window, limit=max_traces, min_duration_us=cut)
        slow.update((t.trace_id, t) for t in over if t.nodes and t.duration >= cut)
    threshold = min((t.duration for t in slow.values()), default=0)
    return (
        [*sample.values(), *(t for i, t in slow.items() if i not in sample)],
        set(slow),
        threshold,
    )


def trace_report(
    api: JaegerApi,
    services: Sequence[str],
    window: TimeWindow,
    *,
    max_traces: int = 100,
    selection: SlowSelection | None = None,
) -> TraceReport:
    chosen = list(services) or [s for s in api.services() if not s.startswith("jaeger")]
    trees, slow_ids, threshold = collect(
        api, chosen, window, max_traces, selection or SlowSelection()
    )
    analyses = [analyse_trace(tree) for tree in trees]
    edges = dependency_edges(trees)
    summary = summarise_traces(trees, slow_threshold_us=threshold or None)
    slow = [a for a in analyses if a.trace_id in slow_ids]
    others = [a for a in analyses if a.trace_id not in slow_ids]
    total = len(analyses)
    notes: list[str] = []
    advice = [
        *slow_dependency_advice(slow, others, edges, notes),
        *n_plus_one_advice(analyses, total, call_targets(trees)),
        *sequential_advice(analyses, total),
        *repeated_call_advice(trees, total),
        *error_advice(analyses, total),
    ]
    advice.sort(key=lambda r: (-r.confidence * max(r.impact_ms, 1.0), r.kind, r.service))
    return TraceReport(
        services=chosen,
        window_start=window.start,
        window_end=window.end,
        trace_count=total,
        slow_threshold_ms=threshold / 1000,
        slow_trace_ids=sorted(slow_ids),
        operations=summary.operations[:15],
        edges=edges,
        recommendations=advice,
        notes=notes,
    )


class GitHubIssues:
    """Creating issues with GitHub's REST API (`POST /repos/{owner}/{repo}/issues`)."""

    def __init__(
        self, token: str, repo: str, api_url: str, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.repo = repo
        self._http = httpx.Client(
            base_url=api_url.rstrip("/"),
            timeout=15.0,
            transport=transport,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "opsbot",
            },
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, f"/repos/{self.repo}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise DependencyDown(f"GitHub is unreachable: {exc}") from exc
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", ""))
            except ValueError:
                message = response.text[:200]
            raise DependencyDown(f"GitHub answered {response.status_code}: {message}")
        return response.json()

    def open_titles(self, label: str) -> set[str]:
        found = self._call("GET", "/issues", params={"state": "open", "labels": label})
        return {str(item.get("title", "")) for item in found if isinstance(item, dict)}

    def create(self, title: str, body: str, labels: list[str]) -> str:
        created = self._call(
            "POST", "/issues", json={"title": title, "body": body, "labels": labels}
        )
        return str(created["html_url"])

    def close(self) -> None:
        self._http.close()


def issue_body(advice: Recommendation, report: TraceReport, jaeger_ui: str | None) -> str:
    evidence = "\n".join(
        f"- [{trace_id}]({trace_url(jaeger_ui, trace_id)})" if jaeger_ui else f"- `{trace_id}`"
        for trace_id in advice.evidence
    )
    return (
        f"**{advice.title}**\n\n{advice.detail}\n\n**Confidence:** {advice.confidence:.0%}\n\n"
        f"**Evidence traces** ({report.window_start:%Y-%m-%d %H:%M} to "
        f"{report.window_end:%Y-%m-%d %H:%M} UTC, {report.trace_count} traces analysed):\n"
        f"{evidence}\n\n_Filed by opsbot's trace analysis._"
    )


def file_issues(
    report: TraceReport,
    github: GitHubIssues,
    *,
    limit: int = 3,
    min_confidence: float = 0.6,
    jaeger_ui: str | None = None,
) -> list[str]:
    """File the `limit` most important recommendations (at least `min_confidence`) unless
    an open issue labelled `opsbot` has the same title (the finding's stable subject);
    returns the new issues' URLs."""
    top = [a for a in report.recommendations if a.confidence >= min_confidence][:limit]
    if not top:
        return []
    open_titles = github.open_titles(ISSUE_LABEL)
    filed: list[str] = []
    for advice in top:
        if advice.subject in open_titles:
            continue
        body = issue_body(advice, report, jaeger_ui)
        filed.append(github.create(advice.subject, body, [ISSUE_LABEL, "performance"]))
    return filed
