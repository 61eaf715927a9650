"""The service dependency graph as the bot's trace store shows it, for linking incidents.

Read from Jaeger's query API: the newest traces of each service asked about, over the
last hour, and every caller -> callee edge in them (a span whose parent belongs to another
service). Nothing is configured by hand: a service the traces never show has no edges.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from bot.investigation.service_graph import ServiceGraph
from tools.traces.api import JaegerApi
from tools.traces.graph import edge_stats
from tools.traces.tools import micros

LOOKBACK = timedelta(hours=1)
TRACES_PER_SERVICE = 20


class DependencyGraph(Protocol):
    """Who calls whom among `services` and the services they reach, as of `now`."""

    def graph(self, services: Iterable[str], now: datetime) -> ServiceGraph: ...

    def close(self) -> None: ...


class TraceDependencies:
    """A `DependencyGraph` read from Jaeger (raises `tools.base.ToolFailure` when Jaeger
    cannot answer)."""

    def __init__(
        self, api: JaegerApi, lookback: timedelta = LOOKBACK, limit: int = TRACES_PER_SERVICE
    ) -> None:
        self.api = api
        self.lookback = lookback
        self.limit = limit

    def graph(self, services: Iterable[str], now: datetime) -> ServiceGraph:
        """The edges of the newest traces of each of `services` (one query each)."""
        edges: set[tuple[str, str]] = set()
        for service in sorted(set(services)):
            traces = self.api.find_traces(
                {
                    "service": service,
                    "start": str(micros(now - self.lookback)),
                    "end": str(micros(now)),
                    "limit": str(self.limit),
                }
            )
            edges |= {(edge.caller, edge.callee) for edge in edge_stats(traces)}
        return ServiceGraph(frozenset(edges))

    def close(self) -> None:
        self.api.close()
