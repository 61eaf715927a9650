"""Which resource a question means: "the orders database disk" → `prod/postgres-data`.

Pure heuristics over the report's resources. A kind noun in the question ("database",
"db") keeps only resources that look like one (postgres, mysql, ...: by name, namespace or
mountpoint); a storage noun ("disk", "volume") keeps volumes and node disks; the other words
("orders", "prod") rank what is left; ties go to the resource that runs out first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.capacity.models import CapacityReport, Exhaustion, Forecast, Metric, ResourceRef

DATABASE_WORDS = frozenset(
    {"database", "databases", "db", "dbs", "sql", "datastore"},
)
DATABASE_HINTS = (
    "postgres",
    "postgresql",
    "pg",
    "mysql",
    "mariadb",
    "mongo",
    "mongodb",
    "db",
    "database",
    "redis",
    "cassandra",
    "elasticsearch",
    "opensearch",
    "clickhouse",
    "etcd",
    "sql",
)
STORAGE_WORDS = frozenset(
    {"disk", "disks", "volume", "volumes", "pvc", "storage", "filesystem", "space"}
)
METRIC_WORDS = {
    "memory": Metric.MEMORY,
    "ram": Metric.MEMORY,
    "cpu": Metric.CPU,
    "cores": Metric.CPU,
}
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "full",
        "fill",
        "fills",
        "filled",
        "get",
        "go",
        "goes",
        "going",
        "how",
        "in",
        "into",
        "is",
        "it",
        "its",
        "long",
        "me",
        "of",
        "on",
        "or",
        "out",
        "run",
        "running",
        "runs",
        "soon",
        "tell",
        "that",
        "the",
        "their",
        "there",
        "this",
        "to",
        "until",
        "up",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "will",
        "with",
        "would",
        "our",
        "my",
        "left",
        "day",
        "days",
        "time",
        "free",
        "capacity",
        "forecast",
        "exhausted",
        "exhaust",
    ]
)


@dataclass(frozen=True)
class Wanted:
    """What the question asks about."""

    database: bool
    storage: bool
    metric: Metric | None
    words: tuple[str, ...]


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def wanted(question: str) -> Wanted:
    words = tokens(question)
    metric = next((METRIC_WORDS[w] for w in words if w in METRIC_WORDS), None)
    rest = tuple(
        w
        for w in words
        if w not in STOP_WORDS
        and w not in DATABASE_WORDS
        and w not in STORAGE_WORDS
        and w not in METRIC_WORDS
    )
    return Wanted(
        database=any(w in DATABASE_WORDS for w in words),
        storage=any(w in STORAGE_WORDS for w in words),
        metric=metric,
        words=rest,
    )


def _parts(ref: ResourceRef) -> set[str]:
    return set(tokens(f"{ref.namespace or ''} {ref.name} {ref.detail}"))


def looks_like_database(ref: ResourceRef) -> bool:
    parts = _parts(ref)
    return any(hint in parts for hint in DATABASE_HINTS) or any(
        hint in ref.name.lower() for hint in ("postgres", "mysql", "mongo", "-db", "db-")
    )


def _matches(word: str, parts: set[str]) -> bool:
    singular = word.removesuffix("s")
    return any(p in (word, singular) or p.removesuffix("s") == singular for p in parts)


def score(ref: ResourceRef, want: Wanted) -> int | None:
    """None when the resource cannot be what is asked; else how many words it matches."""
    if want.database and not looks_like_database(ref):
        return None
    if want.storage and ref.metric not in (Metric.VOLUME, Metric.DISK):
        return None
    if want.metric is not None and ref.metric is not want.metric:
        return None
    parts = _parts(ref)
    return sum(1 for word in want.words if _matches(word, parts))


def _order(forecast: Forecast, exhaustions: dict[ResourceRef, Exhaustion]) -> float:
    found = exhaustions.get(forecast.resource)
    if found is None:
        return float("inf")
    return found.days_likely if found.days_likely is not None else found.days_earliest + 1000


def resolve(report: CapacityReport, question: str) -> list[Forecast]:
    """The forecasts the question is about, best match first (empty: nothing specific)."""
    want = wanted(question)
    if not (want.database or want.storage or want.metric or want.words):
        return []
    exhaustions = {e.resource: e for e in report.exhaustions}
    scored = [(score(f.resource, want), f) for f in report.forecasts]
    fits = [(s, f) for s, f in scored if s is not None]
    if not want.database and want.words and not any(s for s, _ in fits):
        return []  # named something, and nothing carries that name
    best = max((s for s, _ in fits), default=0)
    chosen = [f for s, f in fits if s == best]
    return sorted(chosen, key=lambda f: _order(f, exhaustions))


def exhaustion_of(report: CapacityReport, forecast: Forecast) -> Exhaustion | None:
    return next((e for e in report.exhaustions if e.resource == forecast.resource), None)


def namespaces_named(report: CapacityReport, question: str) -> Sequence[str]:
    """Namespaces of the report that the question names ("in staging")."""
    known = {f.resource.namespace for f in report.forecasts if f.resource.namespace}
    known |= {r.usage.namespace for r in report.rightsizing} | {i.namespace for i in report.idle}
    words = set(tokens(question))
    return sorted(n for n in known if n in words)
