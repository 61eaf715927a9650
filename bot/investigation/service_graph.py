"""The service dependency graph and where trouble originates, from trace summaries: pure.

Edges come from parent/child spans of different services (caller -> callee). The origin of
errors is the service of the deepest failing span of each trace (the one whose callee is
healthy); the origin of latency is the service with the largest self time in the slowest
traces. Both the pattern engine and the model's tools read these.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tools.traces.summary import SpanSummary, TraceSummary

SLOWEST_TRACES = 5


@dataclass(frozen=True)
class ServiceGraph:
    """Who calls whom: `edges` holds (caller, callee) pairs."""

    edges: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @property
    def services(self) -> set[str]:
        return {name for edge in self.edges for name in edge}

    def callees(self, service: str) -> set[str]:
        return {callee for caller, callee in self.edges if caller == service}

    def downstream(self, service: str) -> set[str]:
        """Every service `service` depends on, directly or not."""
        seen: set[str] = set()
        todo = [service]
        while todo:
            for callee in self.callees(todo.pop()):
                if callee not in seen and callee != service:
                    seen.add(callee)
                    todo.append(callee)
        return seen

    def upstream(self, service: str) -> set[str]:
        """Every service that depends on `service`."""
        return {s for s in self.services if service in self.downstream(s)}


def _edges(spans: Iterable[SpanSummary]) -> set[tuple[str, str]]:
    listed = list(spans)
    by_id = {span.span_id: span for span in listed}
    found = set()
    for span in listed:
        parent = by_id.get(span.parent_id or "")
        if parent is not None and parent.service != span.service:
            found.add((parent.service, span.service))
    return found


def graph_from_traces(
    traces: Sequence[TraceSummary], graph: ServiceGraph | None = None
) -> ServiceGraph:
    """The graph the traces show (added to `graph` when given)."""
    edges = set(graph.edges) if graph else set()
    for trace in traces:
        edges |= _edges([*trace.slowest, *trace.errors])
    return ServiceGraph(frozenset(edges))


def error_origins(traces: Sequence[TraceSummary]) -> Counter[str]:
    """Per service, how many failing traces have their deepest failing span there."""
    origins: Counter[str] = Counter()
    for trace in traces:
        if trace.errors:
            deepest = max(trace.errors, key=lambda span: span.depth)
            origins[deepest.service] += 1
    return origins


def latency_origins(traces: Sequence[TraceSummary], *, peers: bool = False) -> Counter[str]:
    """Per service, how many of the slowest traces spend most self time there. With
    `peers`, a leaf client span's time is its peer's (a caller waiting on its database is
    not slow itself), so an untraced dependency can be the origin; without, the time is
    the traced service's that waits (where a focus can fetch traces and logs)."""
    origins: Counter[str] = Counter()
    slowest = sorted(traces, key=lambda t: -t.duration_ms)[:SLOWEST_TRACES]
    for trace in slowest:
        self_time: Counter[str] = Counter()
        for span in trace.slowest:
            who = span.waits_on if peers and span.waits_on else span.service
            self_time[who] += int(span.self_ms)
        if self_time:
            origins[self_time.most_common(1)[0][0]] += 1
    return origins


def failing_services(traces: Sequence[TraceSummary]) -> set[str]:
    """Services with a failing span of their own in any trace."""
    return {span.service for trace in traces for span in trace.errors}
