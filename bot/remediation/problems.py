"""Problems the watcher saw, kept in the store, and sent as Alertmanager-shaped alerts
through the alert pipeline, so they become incidents (or join Alertmanager's incident
for the same workload) exactly like alerts do.

A problem fires once when its delay has passed and resolves once after its object has
looked healthy for `settle_seconds` (a crash-looping container is briefly "running"
between crashes; that must not resolve the incident)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.remediation.watch_rules import SOURCE, Problem
from bot.store.actions import WatchProblem
from bot.store.db import Database
from bot.store.models import aware, utcnow

GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def _iso(at: datetime) -> str:
    return aware(at).isoformat().replace("+00:00", "Z")


def webhook(problem: WatchProblem, *, resolved_at: datetime | None = None) -> dict[str, Any]:
    """One alert in Alertmanager's webhook format (version 4)."""
    status = "resolved" if resolved_at is not None else "firing"
    return {
        "version": "4",
        "status": status,
        "receiver": SOURCE,
        "groupKey": f"{SOURCE}:{problem.key}",
        "groupLabels": {"alertname": problem.alertname},
        "commonLabels": problem.labels,
        "commonAnnotations": {"summary": problem.summary},
        "externalURL": "",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": problem.alertname, **problem.labels},
                "annotations": {"summary": problem.summary, "description": problem.summary},
                "startsAt": _iso(problem.first_seen),
                "endsAt": _iso(resolved_at) if resolved_at else GO_ZERO_TIME,
                "generatorURL": "",
            }
        ],
    }


class AlertIntake(Protocol):
    """Where alerts enter (the alert pipeline): accept one webhook body."""

    def accept(self, body: bytes) -> int: ...


class ProblemBook:
    """What the watcher saw, kept in the store until it settles, then fed to the alert
    pipeline as an alert (so it dedups with Alertmanager's incidents)."""

    def __init__(self, db: Database, pipeline: AlertIntake, settle_seconds: float = 30.0) -> None:
        self.db = db
        self.pipeline = pipeline
        self.settle = timedelta(seconds=settle_seconds)

    def observe(self, problems: Iterable[Problem], now: datetime) -> None:
        for problem in problems:
            try:
                with self.db.session() as session:
                    self._observe_one(session, problem, now)
            except IntegrityError:
                pass  # another replica recorded it first

    def _observe_one(self, session: Session, problem: Problem, now: datetime) -> None:
        row = session.exec(select(WatchProblem).where(WatchProblem.open_key == problem.key)).first()
        if row is not None:
            if row.cleared_at is not None:
                row.cleared_at = None
                session.add(row)
            return
        session.add(
            WatchProblem(
                key=problem.key,
                open_key=problem.key,
                alertname=problem.alertname,
                labels=problem.labels,
                summary=problem.summary[:1000],
                first_seen=now,
                fire_at=now + timedelta(seconds=problem.delay_seconds),
            )
        )

    def clear(self, keys: Iterable[str], now: datetime, *, at_once: bool = False) -> None:
        wanted = list(keys)
        if not wanted:
            return
        with self.db.session() as session:
            rows = session.exec(
                select(WatchProblem).where(col(WatchProblem.open_key).in_(wanted))
            ).all()
            for row in rows:
                if at_once:
                    row.cleared_at = now - self.settle
                elif row.cleared_at is None:
                    row.cleared_at = now
                session.add(row)

    def open_keys(self, prefix: str) -> set[str]:
        with self.db.session() as session:
            keys = session.exec(
                select(WatchProblem.key).where(
                    col(WatchProblem.open_key).is_not(None),
                    col(WatchProblem.key).startswith(prefix),
                )
            ).all()
        return set(keys)

    def flush(self) -> int:
        """Send due alerts and resolutions; returns how many bodies went to the pipeline."""
        now = utcnow()
        sent = 0
        with self.db.session() as session:
            due = session.exec(
                select(WatchProblem).where(
                    col(WatchProblem.open_key).is_not(None),
                    col(WatchProblem.alerted_at).is_(None),
                    col(WatchProblem.cleared_at).is_(None),
                    col(WatchProblem.fire_at) <= now,
                )
            ).all()
            settled = session.exec(
                select(WatchProblem).where(
                    col(WatchProblem.open_key).is_not(None),
                    col(WatchProblem.cleared_at) <= now - self.settle,
                )
            ).all()
        for row in due:
            if self._claim(row.id or 0, "alerted"):
                self.pipeline.accept(json.dumps(webhook(row)).encode())
                sent += 1
        for row in settled:
            if self._claim(row.id or 0, "resolved") and row.alerted_at is not None:
                self.pipeline.accept(json.dumps(webhook(row, resolved_at=now)).encode())
                sent += 1
        return sent

    def _claim(self, problem_id: int, what: str) -> bool:
        """Mark the row sent (alerted or resolved) unless another replica already did."""
        now = utcnow()
        query = update(WatchProblem).where(
            col(WatchProblem.id) == problem_id, col(WatchProblem.open_key).is_not(None)
        )
        if what == "alerted":
            query = query.where(col(WatchProblem.alerted_at).is_(None)).values(alerted_at=now)
        else:
            query = query.values(resolved_at=now, open_key=None)
        with self.db.session() as session:
            return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]
