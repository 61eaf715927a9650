"""One trace in full, and what many traces say about their slow ones."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from bot.analysis.traces.model import Trace
from bot.analysis.traces.patterns import error_spans, n_plus_one, sequential_calls
from bot.analysis.traces.results import OperationStats, SlowTraceSummary, TimeShare, TraceAnalysis
from bot.analysis.traces.timing import (
    bottleneck,
    critical_path,
    self_time_by_operation,
    self_time_by_service,
)
from bot.analysis.traces.tree import TraceTree, build_tree


def analyse_trace(
    trace: Trace | TraceTree,
    *,
    n_plus_one_min_repeats: int = 5,
    min_parallel_saving_us: int = 1_000,
) -> TraceAnalysis:
    tree = trace if isinstance(trace, TraceTree) else build_tree(trace)
    path = critical_path(tree)
    return TraceAnalysis(
        trace_id=tree.trace_id,
        duration_us=tree.duration,
        span_count=len(tree.nodes),
        services=sorted({n.service for n in tree.nodes.values()}),
        critical_path=path,
        self_time_by_service=self_time_by_service(tree),
        self_time_by_operation=self_time_by_operation(tree),
        bottleneck=bottleneck(path),
        n_plus_one=n_plus_one(tree, min_repeats=n_plus_one_min_repeats),
        sequential_calls=sequential_calls(tree, min_saving_us=min_parallel_saving_us),
        errors=error_spans(tree),
        warnings=tree.warnings,
    )


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not sorted_values:
        return 0.0
    position = (len(sorted_values) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def summarise_traces(
    traces: Sequence[Trace | TraceTree],
    *,
    slow_quantile: float = 90.0,
    slow_threshold_us: int | None = None,
    top: int = 10,
) -> SlowTraceSummary:
    """Latency percentiles per operation, and what the slow traces spend their time on.

    Slow traces are those at or above ``slow_threshold_us`` (default: the ``slow_quantile``
    percentile of trace durations). Their critical-path self time is summed per operation;
    the operations holding most of it are the ones that make those traces slow.
    """
    trees = [t if isinstance(t, TraceTree) else build_tree(t) for t in traces]
    trees = [t for t in trees if t.nodes]
    durations: dict[tuple[str, str], list[int]] = defaultdict(list)
    for tree in trees:
        for node in tree.nodes.values():
            durations[(node.service, node.operation)].append(node.duration)
    operations = []
    for (service, operation), values in durations.items():
        values.sort()
        operations.append(
            OperationStats(
                service=service,
                operation=operation,
                count=len(values),
                p50_us=percentile(values, 50),
                p95_us=percentile(values, 95),
                p99_us=percentile(values, 99),
                max_us=values[-1],
            )
        )
    operations.sort(key=lambda o: (-o.p95_us, o.service, o.operation))

    trace_durations = sorted(t.duration for t in trees)
    threshold = (
        slow_threshold_us
        if slow_threshold_us is not None
        else math.ceil(percentile(trace_durations, slow_quantile))
    )
    slow = [t for t in trees if t.duration >= threshold]
    on_path: dict[tuple[str, str], int] = defaultdict(int)
    for tree in slow:
        for segment in critical_path(tree):
            on_path[(segment.span.service, segment.span.operation)] += segment.duration_us
    total = sum(on_path.values()) or 1
    dominant = [
        TimeShare(service=service, operation=operation, time_us=time, share=time / total)
        for (service, operation), time in sorted(
            on_path.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1])
        )[:top]
    ]
    return SlowTraceSummary(
        trace_count=len(trees),
        slow_threshold_us=threshold,
        slow_trace_ids=[t.trace_id for t in slow],
        operations=operations,
        dominant_in_slow=dominant,
    )
