"""Who brought the extra load: level shifts of per-client series, read two ways. Pure.

- A database's clients (postgres_exporter's pg_stat_activity by `usename` and
  `application_name`): the client whose own active sessions and longest transaction grew
  far more than every other client's is where the database's work comes from; the others
  only queue behind it (their numbers grow a little, as waiting does).
- A service's callers (request rates per service plus the call graph): when a service's
  request rate rises while its callers' own traffic stays level, the calls per caller
  request rose, so the extra load comes from a caller's behaviour (retries, fan-out), not
  from users.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.investigation.patterns.changepoints import change_point
from bot.investigation.service_graph import ServiceGraph
from tools.metrics.query_tools import RangeQueryData
from tools.metrics.series import SeriesSummary

MIN_GROWTH = 3.0  # the hog's own numbers grow at least this many times
MIN_LEAD = 2.5  # ... and this many times more than the next client's
MIN_FAN_OUT = 2.0  # calls into a service per caller request grow at least this many times
TINY = 1e-3


@dataclass(frozen=True)
class Level:
    """A series' level before and after its change (equal when it did not change)."""

    before: float
    after: float
    at: datetime | None

    @property
    def growth(self) -> float:
        return (self.after + TINY) / (self.before + TINY)


def level(values: Sequence[tuple[float, float]]) -> Level | None:
    """The series' level shift (before, after, when), or its flat level without one."""
    points = [(t, v) for t, v in values if math.isfinite(v)]
    if not points:
        return None
    found = change_point([v for _, v in points])
    if found is None:
        flat = sorted(v for _, v in points)[len(points) // 2]
        return Level(flat, flat, None)
    return Level(found.before, found.after, datetime.fromtimestamp(points[found.index][0], UTC))


@dataclass(frozen=True)
class DatabaseClient:
    """One client of a database as its exporter labels it, and how its activity moved."""

    database_namespace: str
    database_service: str
    datname: str
    usename: str
    application_name: str
    sessions: Level
    longest_tx: Level

    @property
    def growth(self) -> float:
        return max(self.sessions.growth, self.longest_tx.growth)

    @property
    def at(self) -> datetime | None:
        return self.longest_tx.at or self.sessions.at

    def describe(self) -> str:
        who = self.application_name or self.usename
        return (
            f"{who} (user {self.usename}) on {self.database_service}/{self.datname}: "
            f"longest transaction {self.longest_tx.before:.3g}s -> {self.longest_tx.after:.3g}s, "
            f"active sessions {self.sessions.before:.3g} -> {self.sessions.after:.3g}"
        )


def _client_key(series: SeriesSummary) -> tuple[str, str, str, str, str]:
    labels = series.labels
    return (
        labels.get("namespace", ""),
        labels.get("service", ""),
        labels.get("datname", ""),
        labels.get("usename", ""),
        labels.get("application_name", ""),
    )


def database_clients(
    sessions: RangeQueryData | None, longest: RangeQueryData | None
) -> list[DatabaseClient]:
    """Every (database, user, application) with its session and transaction levels, the
    most grown first."""
    by_key: dict[tuple[str, str, str, str, str], dict[str, Level]] = {}
    for name, data in (("sessions", sessions), ("longest", longest)):
        for series in data.series if data else []:
            found = level(series.values)
            if found is not None:
                by_key.setdefault(_client_key(series), {})[name] = found
    flat = Level(0.0, 0.0, None)
    clients = [
        DatabaseClient(
            *key, sessions=got.get("sessions", flat), longest_tx=got.get("longest", flat)
        )
        for key, got in by_key.items()
        if key[3] or key[4]
    ]
    return sorted(clients, key=lambda c: -c.growth)


def busiest_client(clients: Sequence[DatabaseClient]) -> DatabaseClient | None:
    """The client whose activity grew `MIN_GROWTH` times and `MIN_LEAD` times more than
    any other client of the same database: the others wait, it works."""
    if not clients:
        return None
    top = clients[0]
    peers = [
        c
        for c in clients[1:]
        if (c.database_namespace, c.database_service)
        == (top.database_namespace, top.database_service)
    ]
    if top.growth < MIN_GROWTH or top.at is None:
        return None
    if peers and top.growth < MIN_LEAD * max(p.growth for p in peers):
        return None
    return top


@dataclass(frozen=True)
class FanOut:
    """Calls into `callee` per request its callers receive grew `growth` times at `at`."""

    callee: str
    callers: tuple[str, ...]
    callee_rate: Level
    callers_rate: Level
    growth: float
    at: datetime


def _rates(data: RangeQueryData | None) -> dict[str, dict[float, float]]:
    rates: dict[str, dict[float, float]] = {}
    for series in data.series if data else []:
        name = series.labels.get("service")
        if name:
            rates[name] = {t: v for t, v in series.values if math.isfinite(v)}
    return rates


def fan_out_rises(rates: RangeQueryData | None, graph: ServiceGraph) -> list[FanOut]:
    """Services whose request rate per request of their direct callers rose at least
    `MIN_FAN_OUT` times, the largest rise first. Callers' rates are summed (who of several
    callers changed is for the change timeline to tell)."""
    by_service = _rates(rates)
    found = []
    for callee in sorted(graph.services):
        callers = tuple(sorted(c for c in graph.services if callee in graph.callees(c)))
        if callee not in by_service or not callers or any(c not in by_service for c in callers):
            continue
        times = sorted(set(by_service[callee]).intersection(*(by_service[c] for c in callers)))
        ratio = [
            (t, by_service[callee][t] / total)
            for t in times
            if (total := sum(by_service[c][t] for c in callers)) > 0
        ]
        shift = level(ratio)
        if shift is None or shift.at is None or shift.growth < MIN_FAN_OUT:
            continue
        cut = shift.at.timestamp()
        before = [t for t in times if t < cut]
        after = [t for t in times if t >= cut]
        if not before or not after:
            continue

        def mean(service: str, span: list[float]) -> float:
            return sum(by_service[service][t] for t in span) / len(span)

        callers_rate = Level(
            sum(mean(c, before) for c in callers), sum(mean(c, after) for c in callers), shift.at
        )
        callee_rate = Level(mean(callee, before), mean(callee, after), shift.at)
        found.append(FanOut(callee, callers, callee_rate, callers_rate, shift.growth, shift.at))
    return sorted(found, key=lambda f: -f.growth)
