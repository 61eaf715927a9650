"""Trace analysis over Jaeger's JSON model: pure functions, typed results."""

from bot.analysis.traces.analysis import analyse_trace, percentile, summarise_traces
from bot.analysis.traces.model import Trace, parse_trace
from bot.analysis.traces.tree import SpanNode, TraceTree, build_tree

__all__ = [
    "SpanNode",
    "Trace",
    "TraceTree",
    "analyse_trace",
    "build_tree",
    "parse_trace",
    "percentile",
    "summarise_traces",
]
