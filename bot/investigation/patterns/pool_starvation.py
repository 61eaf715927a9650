"""A connection pool starved by slow queries, not leaked.

"Connection is not available" reads like a leak (restart the service), but when the
database's slow-statement log attributes long statements to the service (its user or
application name), every pooled connection is busy running them: a restart hands the same
queries fresh connections. When those statements began with the service's rollout, the
release brought the slow query and the fix is a rollback; without a release the finding
names the statement and proposes no action (a restart is never the fix).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.investigation.agent.finding import MetricChange
from bot.investigation.change_timeline import ChangeEvent
from bot.investigation.patterns.base import Candidate, RuleContext, action
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.slow_statements import (
    SlowStatement,
    attributed_to,
    slow_statement,
)
from policies import ActionKind
from tools.logs.aggregation_tools import MessageGroup

MIN_STATEMENTS = 5  # slow statements of the service since its release before it is blamed
NEW_FACTOR = 3.0  # their rate since the release over the rate before it
RECENT = timedelta(hours=2)
LATENCY_WINDOW = (timedelta(minutes=5), timedelta(minutes=20))  # before, after the rollout
CONFIDENCE_RELEASE = 0.85  # the statements began with the rollout: two independent signals
CONFIDENCE_RECENT_RELEASE = 0.7  # a recent rollout, but the logs do not reach before it
CONFIDENCE_NO_RELEASE = 0.6  # slow statements hold the pool; nothing says what changed


@dataclass(frozen=True)
class StatementEvidence:
    """The service's slow statements in the windows: before and since a moment, the
    longest one seen since."""

    before: int
    since: int
    before_minutes: float
    since_minutes: float
    longest: SlowStatement | None

    def started_then(self) -> bool:
        """Enough statements since, far more per minute than before (none before counts)."""
        if self.since < MIN_STATEMENTS or self.before_minutes <= 0:
            return False
        rate_before = self.before / self.before_minutes
        return self.since / max(self.since_minutes, 1.0) >= NEW_FACTOR * rate_before


def statement_evidence(
    lines: list[tuple[str, float]], names: set[str], split: float, start: float, end: float
) -> StatementEvidence:
    """Pure: of (message, timestamp) log lines, the slow statements attributed to `names`,
    counted before `split` (from `start`) and from `split` to `end`."""
    before = since = 0
    longest: SlowStatement | None = None
    for message, stamp in lines:
        found = slow_statement(message)
        if found is None or not attributed_to(found, names) or stamp < start:
            continue
        if stamp < split:
            before += 1
            continue
        since += 1
        if longest is None or found.ms > longest.ms:
            longest = found
    return StatementEvidence(
        before, since, max(split - start, 0.0) / 60, max(end - split, 0.0) / 60, longest
    )


def client_names(obs: Observations, service: str) -> set[str]:
    """The names a database knows the service by: its own, and the user and application
    name the workload's configuration gives it (when the investigation read them)."""
    names = {service}
    client = obs.db_hog_workload
    if client is not None and client.name == service:
        names |= {n for n in (client.user, client.application_name) if n}
    return names


def starved_by_slow_statements(
    obs: Observations, ctx: RuleContext, service: str, groups: list[MessageGroup]
) -> Candidate | None:
    """The pool errors of `service` explained by its slow statements, when the database's
    log attributes them to it; None when no slow statement is attributed to it."""
    if obs.windows is None:
        return None
    pack = obs.windows.pack
    start, end = pack.baseline[0], pack.window[1]
    lines = [(r.message, r.timestamp) for r in pack.logs]
    release = next(
        (e for e in obs.timeline if e.service == service and ctx.now - e.at <= RECENT), None
    )
    split = release.at.timestamp() if release else pack.window[0]
    found = statement_evidence(lines, client_names(obs, service), split, start, end)
    if found.longest is None or found.since < MIN_STATEMENTS:
        return None
    began = release is not None and split > start and found.started_then()
    confidence = (
        CONFIDENCE_RELEASE
        if began
        else CONFIDENCE_RECENT_RELEASE
        if release
        else CONFIDENCE_NO_RELEASE
    )
    statement = found.longest
    pool = groups[0].message[:160]
    count = sum(g.count for g in groups)
    evidence = (
        f"the database logged {found.since} slow statement(s) of {service} since "
        f"{'its rollout' if release else 'the trouble began'} ({found.before} before), the "
        f"longest {statement.ms / 1000:.1f} s: {statement.text[:160]!r}"
    )
    return Candidate(
        "db-pool-slow-queries",
        f"{service}'s database connection pool is exhausted by slow queries, not a leak: "
        f"{count} pool errors like {pool!r}; {evidence}.",
        "Slow queries hold every connection of the pool: each request keeps its pooled "
        "connection for the whole statement, so the pool stays fully in use and waiting "
        "requests time out. A restart would hand the same queries fresh connections."
        + (_release_text(release, began) if release else "")
        + _latency_text(obs, ctx, release),
        confidence,
        obs.cite("top_errors", "windows:logs", "deployment"),
        action(
            Observations(namespace=release.namespace, service=service),
            ctx,
            ActionKind.ROLLBACK_DEPLOYMENT,
            service,
            f"revision {release.revision} brought the slow statements that hold the pool",
            confidence,
        )
        if release
        else [],
        [
            f"Run EXPLAIN on the slow statement of {service}: a statement this slow usually "
            "scans a table without a usable index; add the index (CREATE INDEX CONCURRENTLY "
            "on PostgreSQL) before releasing it again.",
            "Do not restart the service or the database as the fix: the same queries come "
            "straight back.",
        ],
        [service],
        "latency",
    )


def _release_text(release: ChangeEvent, began: bool) -> str:
    tags = [image.rsplit(":", 1)[-1] for image in release.images if ":" in image]
    version = f" ({', '.join(tags)})" if tags else ""
    if began:
        return (
            f" The slow statements began with revision {release.revision}{version} at "
            f"{release.at:%H:%M}Z ({release.what}); before it the database logged few or none."
        )
    return (
        f" Revision {release.revision}{version} went out at {release.at:%H:%M}Z, the only "
        "recent change of the service; the logs read do not reach before it."
    )


def latency_rise(obs: Observations, ctx: RuleContext, release: ChangeEvent) -> MetricChange | None:
    """The service's p95 latency rising from shortly before to 20 minutes after the
    rollout (a change point the investigation found), when there is one."""
    latency = obs.ranges.get("latency_p95")
    early, late = LATENCY_WINDOW
    return next(
        (
            c
            for c in ctx.changes
            if latency is not None
            and c.query == latency.query
            and c.after > c.before
            and release.at - early <= c.at <= release.at + late
        ),
        None,
    )


def _latency_text(obs: Observations, ctx: RuleContext, release: ChangeEvent | None) -> str:
    rise = latency_rise(obs, ctx, release) if release else None
    if rise is None:
        return ""
    return (
        f" Its p95 latency rose with the rollout too, from {rise.before:.3g} to "
        f"{rise.after:.3g} s at {rise.at:%H:%M}Z."
    )
