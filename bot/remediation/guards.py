"""Guards every replica agrees on, because their state is in the database: the kill
switch, circuit breakers (per action kind and global) and hourly rate limits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from bot.audit import chain as audit
from bot.remediation.records import ATTEMPTED, FAILURES, STARTED
from bot.settings import RemediationSettings
from bot.store.actions import ActionRecord, Breaker, RemediationControl
from bot.store.models import aware

GLOBAL = "global"
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True)
class BreakerView:
    scope: str
    state: str
    failures: int
    attempts: int
    opened_at: datetime | None

    def describe(self) -> str:
        return f"{self.scope}: {self.state} ({self.failures} failed of last {self.attempts})"


@dataclass(frozen=True)
class Budget:
    scope: str
    used: int
    limit: int

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit


class Guards:
    def __init__(self, settings: RemediationSettings) -> None:
        self.settings = settings

    # --- kill switch -----------------------------------------------------------------------

    def control(self, session: Session) -> RemediationControl:
        row = session.get(RemediationControl, GLOBAL, populate_existing=True)
        if row is None:  # created by the migration; recreated if someone removed it
            row = RemediationControl(name=GLOBAL)
            session.add(row)
            session.flush()
        return row

    def set_paused(
        self, session: Session, *, paused: bool, by: str, reason: str, now: datetime
    ) -> bool:
        """Flip the switch; False when it already was in that position."""
        row = self.control(session)
        if row.paused == paused:
            return False
        row.paused, row.changed_by, row.changed_at, row.reason = paused, by, now, reason[:500]
        row.version += 1
        session.add(row)
        audit.append(
            session,
            actor=by,
            action="remediation.paused" if paused else "remediation.resumed",
            subject="kill-switch",
            detail={"reason": reason},
        )
        return True

    def lock_gate(self, session: Session) -> RemediationControl:
        """Take the write lock every execution start takes (a row lock on PostgreSQL, the
        database write lock on SQLite), so counting the budget and starting are atomic."""
        session.execute(
            update(RemediationControl)
            .where(col(RemediationControl.name) == GLOBAL)
            .values(version=RemediationControl.version + 1)
        )
        return self.control(session)

    # --- circuit breakers ------------------------------------------------------------------

    @property
    def threshold(self) -> int:
        return max(1, math.ceil(self.settings.breaker_failure_ratio * self.settings.breaker_window))

    def breaker(self, session: Session, scope: str, now: datetime) -> BreakerView:
        row = session.get(Breaker, scope, populate_existing=True)
        state = row.state if row else CLOSED
        opened_at = aware(row.opened_at) if row and row.opened_at else None
        cooldown = timedelta(seconds=self.settings.breaker_cooldown_seconds)
        if state == OPEN and opened_at is not None and now - opened_at >= cooldown:
            state = HALF_OPEN
        query = select(ActionRecord.state).where(col(ActionRecord.state).in_(ATTEMPTED))
        if scope != GLOBAL:
            query = query.where(col(ActionRecord.kind) == scope)
        if row is not None and row.window_start is not None:
            query = query.where(col(ActionRecord.finished_at) >= row.window_start)
        states = session.exec(
            query.order_by(col(ActionRecord.finished_at).desc()).limit(self.settings.breaker_window)
        ).all()
        failures = sum(1 for s in states if s in FAILURES)
        return BreakerView(scope, state, failures, len(states), opened_at)

    def open_breakers(self, session: Session, kind: str, now: datetime) -> list[BreakerView]:
        """Breakers that stop automatic execution of `kind` now (half-open lets one through)."""
        views = [self.breaker(session, scope, now) for scope in (kind, GLOBAL)]
        return [view for view in views if view.state == OPEN]

    def record_attempt(
        self, session: Session, kind: str, *, succeeded: bool, now: datetime
    ) -> list[str]:
        """Update both breakers after an execution finished; returns what changed."""
        changes: list[str] = []
        for scope in (kind, GLOBAL):
            view = self.breaker(session, scope, now)
            row = session.get(Breaker, scope) or Breaker(scope=scope)
            if view.state == HALF_OPEN:
                if succeeded:
                    row.state, row.window_start, row.opened_at = CLOSED, now, None
                    changes.append(f"breaker {scope} closed after a successful trial")
                else:
                    row.state, row.opened_at = OPEN, now
                    changes.append(f"breaker {scope} opened again: the trial failed")
            elif view.state == OPEN:
                if not succeeded:
                    row.opened_at = now  # the cool-down starts over
            elif view.failures >= self.threshold:
                row.state, row.opened_at = OPEN, now
                changes.append(
                    f"breaker {scope} opened: {view.failures} of the last {view.attempts} "
                    "attempts failed"
                )
            row.updated_at = now
            session.add(row)
        for change in changes:
            audit.append(
                session,
                actor="opsbot",
                action="remediation.breaker",
                subject=f"breaker:{change.split()[1]}",
                detail={"change": change},
            )
        return changes

    def all_breakers(self, session: Session, now: datetime) -> list[BreakerView]:
        scopes = {GLOBAL, *session.exec(select(Breaker.scope)).all()}
        return [self.breaker(session, scope, now) for scope in sorted(scopes)]

    # --- rate limits ---------------------------------------------------------------------

    def budgets(self, session: Session, namespace: str, now: datetime) -> list[Budget]:
        since = now - timedelta(hours=1)
        started = (
            select(func.count())
            .select_from(ActionRecord)
            .where(col(ActionRecord.state).in_(STARTED), col(ActionRecord.started_at) >= since)
        )
        overall = int(session.exec(started).one())
        in_namespace = int(
            session.exec(started.where(col(ActionRecord.namespace) == namespace)).one()
        )
        settings = self.settings
        return [
            Budget(
                f"namespace {namespace or '(cluster)'}",
                in_namespace,
                settings.max_actions_per_namespace_per_hour,
            ),
            Budget("overall", overall, settings.max_actions_per_hour),
        ]

    def budget_refusal(self, session: Session, namespace: str, now: datetime) -> str | None:
        for budget in self.budgets(session, namespace, now):
            if budget.exhausted:
                return (
                    f"rate limit: {budget.used} actions started in the last hour "
                    f"({budget.scope}, limit {budget.limit})"
                )
        return None
