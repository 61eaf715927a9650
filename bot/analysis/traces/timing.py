"""Where a trace's time goes: self time, the critical path and its bottleneck."""

from __future__ import annotations

from collections import defaultdict

from bot.analysis.traces.results import Bottleneck, PathSegment, SpanRef, TimeShare
from bot.analysis.traces.tree import SpanNode, TraceTree


def span_ref(node: SpanNode) -> SpanRef:
    return SpanRef(span_id=node.uid, service=node.service, operation=node.operation)


def _union_length(intervals: list[tuple[int, int]]) -> int:
    total = 0
    reach: int | None = None
    for lo, hi in sorted(intervals):
        if reach is None or lo > reach:
            total += hi - lo
            reach = hi
        elif hi > reach:
            total += hi - reach
            reach = hi
    return total


def self_time(node: SpanNode) -> int:
    """The span's duration not covered by any of its children (clipped to the span)."""
    covered = [
        (max(c.start, node.start), min(c.end, node.end))
        for c in node.children
        if c.end > node.start and c.start < node.end
    ]
    return node.duration - _union_length(covered)


def _shares(totals: dict[tuple[str, str | None], int]) -> list[TimeShare]:
    grand = sum(totals.values()) or 1
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or ""))
    return [
        TimeShare(service=service, operation=operation, time_us=time, share=time / grand)
        for (service, operation), time in ranked
    ]


def self_time_by_service(tree: TraceTree) -> list[TimeShare]:
    totals: dict[tuple[str, str | None], int] = defaultdict(int)
    for node in tree.nodes.values():
        totals[(node.service, None)] += self_time(node)
    return _shares(totals)


def self_time_by_operation(tree: TraceTree) -> list[TimeShare]:
    totals: dict[tuple[str, str | None], int] = defaultdict(int)
    for node in tree.nodes.values():
        totals[(node.service, node.operation)] += self_time(node)
    return _shares(totals)


def critical_path(tree: TraceTree) -> list[PathSegment]:
    """The chain of work the main root waited on, in time order.

    From the root's end backwards: the child finishing last (before the cursor) is on the
    path; the parent's own time fills the gaps; repeat from that child's start. Every span
    is confined to the window its parent left for it, so segments never overlap.
    """
    if not tree.nodes:
        return []
    root = tree.root
    segments: list[PathSegment] = []
    stack: list[tuple[SpanNode, int, int]] = [(root, root.start, root.end)]
    while stack:
        node, low, high = stack.pop()
        low, cursor = max(node.start, low), min(node.end, high)
        candidates = [c for c in node.children if c.start < cursor and c.end > low]
        while cursor > low:
            open_ = [c for c in candidates if c.start < cursor]
            if not open_:
                break
            pick = max(open_, key=lambda c: (min(c.end, cursor), -c.start, c.uid))
            candidates.remove(pick)
            pick_end = min(pick.end, cursor)
            if pick_end < cursor:
                segments.append(_segment(node, pick_end, cursor))
            pick_start = max(pick.start, low)
            stack.append((pick, pick_start, pick_end))
            cursor = pick_start
        if cursor > low:
            segments.append(_segment(node, low, cursor))
    return sorted(segments, key=lambda s: s.start_us)


def _segment(node: SpanNode, start: int, end: int) -> PathSegment:
    return PathSegment(span=span_ref(node), start_us=start, end_us=end)


def bottleneck(path: list[PathSegment]) -> Bottleneck | None:
    """The span, and the service, with the most critical-path time of their own."""
    total = sum(s.duration_us for s in path)
    if total <= 0:
        return None
    by_span: dict[str, int] = defaultdict(int)
    refs: dict[str, SpanRef] = {}
    by_service: dict[str, int] = defaultdict(int)
    for segment in path:
        by_span[segment.span.span_id] += segment.duration_us
        refs[segment.span.span_id] = segment.span
        by_service[segment.span.service] += segment.duration_us
    span_id = max(by_span, key=lambda k: (by_span[k], k))
    service = max(by_service, key=lambda k: (by_service[k], k))
    return Bottleneck(
        span=refs[span_id],
        span_time_us=by_span[span_id],
        span_share=by_span[span_id] / total,
        service=service,
        service_time_us=by_service[service],
        service_share=by_service[service] / total,
    )
