"""The database refusing new connections to everyone (its max_connections is reached), and
which client took the slots: pure.

A client's own pool running dry ("Connection is not available", "QueuePool limit") is that
client's problem. The server saying "too many clients" is not: every client of the database
is refused, and the one that reports it is as likely a victim as the cause. The candidate is
a client of the same database (its spans run SQL in the traces) whose release went out
shortly before, because a release is what changes a pool's size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.investigation.change_timeline import ChangeEvent
from tools.logs.aggregation_tools import MessageGroup
from tools.traces.summary import TraceSummary

SERVER_REFUSAL = re.compile(
    r"too many (?:clients|connections)|remaining connection slots are reserved"
    r"|ER_CON_COUNT_ERROR|max_connections|connection limit exceeded",
    re.IGNORECASE,
)
# OpenTelemetry names a database client span "<operation> <table>"
SQL_SPAN = re.compile(
    r"^(?:SELECT|INSERT|UPDATE|DELETE|UPSERT|MERGE|BEGIN|COMMIT|CALL|WITH)\b", re.IGNORECASE
)
BEFORE_ONSET = timedelta(hours=2)


def server_refusals(groups: Iterable[MessageGroup]) -> list[MessageGroup]:
    """The error groups in which the database server refuses a new connection."""
    return [g for g in groups if SERVER_REFUSAL.search(g.message)]


def database_clients(traces: Sequence[TraceSummary]) -> set[str]:
    """Services whose own spans run SQL in the traces."""
    return {
        span.service
        for trace in traces
        for span in (*trace.slowest, *trace.errors)
        if SQL_SPAN.match(span.operation)
    }


def onset(groups: Iterable[MessageGroup]) -> datetime | None:
    """When the first refusal was logged."""
    seen = [g.first_seen for g in groups if g.first_seen is not None]
    return min(seen) if seen else None


def slot_taker(
    timeline: Iterable[ChangeEvent],
    clients: set[str],
    reporters: set[str],
    started: datetime | None,
    now: datetime,
) -> ChangeEvent | None:
    """The latest release of a database client that went out before the refusals began
    (within BEFORE_ONSET). A reporter's own release counts too: it may have grown its own
    pool. Services not seen running SQL are not candidates."""
    until = started or now
    releases = [
        e
        for e in timeline
        if (e.service in clients or e.service in reporters)
        and e.at <= until + timedelta(minutes=1)
        and until - e.at <= BEFORE_ONSET
    ]
    return max(releases, key=lambda e: e.at) if releases else None
