"""Span tree of one Jaeger trace, with its edge cases resolved.

* Duplicate span ids: later copies get the id ``"<id>~<n>"`` and, when they have no parent
  of their own, become children of the first copy (as Jaeger's span-id deduper does for
  Zipkin-style shared client/server spans). References to the id mean the first copy.
* Parents: the first ``CHILD_OF`` reference to a span of this trace, else the first
  ``FOLLOWS_FROM`` one. References to other traces or to spans not in the trace are
  ignored (noted in ``warnings``); a span left without a parent is a root.
* Clock skew: a ``CHILD_OF`` child from another process that starts before its parent or
  ends after it, yet is not longer than it, is shifted (with its subtree) to sit in the
  middle of its parent, as Jaeger's clock-skew adjuster assumes symmetric network latency.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.analysis.traces.model import Reference, Span, Trace

CHILD_OF = "CHILD_OF"
FOLLOWS_FROM = "FOLLOWS_FROM"


@dataclass
class SpanNode:
    uid: str
    span: Span
    service: str
    start: int  # microseconds, after clock-skew adjustment
    duration: int
    parent: SpanNode | None = None
    ref_type: str | None = None
    children: list[SpanNode] = field(default_factory=list)
    skew: int = 0  # microseconds added to the recorded start

    @property
    def end(self) -> int:
        return self.start + self.duration

    @property
    def operation(self) -> str:
        return self.span.operation_name


@dataclass
class TraceTree:
    trace_id: str
    roots: list[SpanNode]
    nodes: dict[str, SpanNode]
    warnings: list[str]

    @property
    def root(self) -> SpanNode:
        """The main root: earliest start, then longest."""
        return min(self.roots, key=lambda n: (n.start, -n.duration, n.uid))

    @property
    def start(self) -> int:
        return min(n.start for n in self.nodes.values())

    @property
    def end(self) -> int:
        return max(n.end for n in self.nodes.values())

    @property
    def duration(self) -> int:
        return self.end - self.start if self.nodes else 0

    def walk(self) -> Iterator[SpanNode]:
        """Every node, depth first, children in start order."""
        stack = sorted(self.roots, key=lambda n: (n.start, n.uid), reverse=True)
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def build_tree(trace: Trace) -> TraceTree:
    warnings = list(trace.warnings)
    nodes: dict[str, SpanNode] = {}
    first_copy: dict[str, SpanNode] = {}
    for span in trace.spans:
        process = trace.processes.get(span.process_id)
        service = process.service_name if process else span.process_id or "unknown"
        uid = span.span_id
        copies = 0
        while uid in nodes:
            copies += 1
            uid = f"{span.span_id}~{copies}"
        if copies:
            warnings.append(f"duplicate span id {span.span_id}: copy renamed {uid}")
        warnings.extend(f"span {uid}: {w}" for w in span.warnings)
        node = SpanNode(uid, span, service, span.start_time, max(span.duration, 0))
        nodes[uid] = node
        first_copy.setdefault(span.span_id, node)

    for node in nodes.values():
        parent, ref_type = _resolve_parent(node, trace.trace_id, first_copy, warnings)
        if parent is None and node.uid != node.span.span_id:
            parent, ref_type = first_copy[node.span.span_id], CHILD_OF
        if parent is not None and _is_ancestor(node, parent):
            warnings.append(f"span {node.uid}: reference cycle broken")
            parent = None
        if parent is not None:
            node.parent, node.ref_type = parent, ref_type
            parent.children.append(node)

    roots = [n for n in nodes.values() if n.parent is None]
    for root in roots:
        _adjust_skew(root, warnings)
    for node in nodes.values():
        node.children.sort(key=lambda c: (c.start, c.uid))
    return TraceTree(trace.trace_id, roots, nodes, warnings)


def _same_trace(a: str, b: str) -> bool:
    return a.lstrip("0").lower() == b.lstrip("0").lower()


def _resolve_parent(
    node: SpanNode, trace_id: str, first_copy: dict[str, SpanNode], warnings: list[str]
) -> tuple[SpanNode | None, str | None]:
    valid: list[tuple[Reference, SpanNode]] = []
    for ref in node.span.references:
        target = first_copy.get(ref.span_id) if _same_trace(ref.trace_id, trace_id) else None
        if target is None or target is node:
            warnings.append(
                f"span {node.uid}: {ref.ref_type} reference to {ref.trace_id}/{ref.span_id}"
                " outside the trace ignored"
            )
            continue
        valid.append((ref, target))
    for wanted in (CHILD_OF, FOLLOWS_FROM):
        for ref, target in valid:
            if ref.ref_type == wanted:
                return target, wanted
    if valid:
        return valid[0][1], valid[0][0].ref_type
    return None, None


def _is_ancestor(node: SpanNode, candidate: SpanNode) -> bool:
    """Would making ``candidate`` the parent of ``node`` close a loop?"""
    current: SpanNode | None = candidate
    while current is not None:
        if current is node:
            return True
        current = current.parent
    return False


def _adjust_skew(root: SpanNode, warnings: list[str]) -> None:
    stack: list[tuple[SpanNode, int]] = [(root, 0)]
    while stack:
        node, inherited = stack.pop()
        node.start += inherited
        node.skew += inherited
        parent = node.parent
        if (
            parent is not None
            and node.ref_type == CHILD_OF
            and node.span.process_id != parent.span.process_id
            and node.duration <= parent.duration
            and (node.start < parent.start or node.end > parent.end)
        ):
            centred = parent.start + (parent.duration - node.duration) // 2
            shift = centred - node.start
            warnings.append(f"span {node.uid}: clock skew of {shift} us corrected")
            node.start += shift
            node.skew += shift
            inherited += shift
        stack.extend((child, inherited) for child in node.children)
