"""What the log analysis remembers between runs (tables created by migration 0005): each
stream's template miner state, so template ids stay stable across windows, and the line
counts per (service, template, level) of every analysed window, the next windows' baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.analysis.logmine.miner import TemplateMiner
from bot.store.db import Database
from bot.store.models import utcnow
from tools.timewindow import TimeWindow


class LogMinerState(SQLModel, table=True):
    """A template miner's state (``TemplateMiner.to_state``) for one log stream."""

    __tablename__ = "log_miner_state"

    stream: str = Field(primary_key=True, max_length=300)
    state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    lines: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    templates: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


class LogWindowCounts(SQLModel, table=True):
    """Lines per (service, template, level) in one analysed window: the next windows'
    baseline. ``counts`` rows are ``[service, template_id, level, count]``."""

    __tablename__ = "log_window_counts"
    __table_args__ = (
        UniqueConstraint(
            "stream", "scope", "window_start", "window_end", name="uq_log_window_counts"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=300)
    scope: str = Field(default="", max_length=300, description="Service filter; '' = all.")
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    window_end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    lines: int = 0
    counts: list[list[Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))


def load_miner(db: Database, stream: str) -> TemplateMiner:
    """The stream's miner as last saved, or a new one."""
    with db.session() as session:
        row = session.get(LogMinerState, stream)
    return TemplateMiner.from_state(row.state) if row is not None else TemplateMiner()


def save_miner(db: Database, stream: str, miner: TemplateMiner, lines: int) -> None:
    """Save the stream's miner after it read `lines` more lines."""
    with db.session() as session:
        row = session.get(LogMinerState, stream)
        if row is None:
            row = LogMinerState(stream=stream, state={})
        row.state = miner.to_state()
        row.lines += lines
        row.templates = len(miner.clusters)
        row.updated_at = utcnow()
        session.add(row)


def _scope(services: Sequence[str]) -> str:
    return ",".join(sorted(services))[:300]


def _window_counts(
    stream: str, services: Sequence[str], window: TimeWindow
) -> SelectOfScalar[LogWindowCounts]:
    return select(LogWindowCounts).where(
        LogWindowCounts.stream == stream,
        LogWindowCounts.scope == _scope(services),
        LogWindowCounts.window_start == window.start,
        LogWindowCounts.window_end == window.end,
    )


def stored_counts(
    db: Database, stream: str, services: Sequence[str], window: TimeWindow
) -> list[list[Any]] | None:
    """The counts recorded for exactly this window and service filter, if any."""
    with db.session() as session:
        row = session.exec(_window_counts(stream, services, window)).first()
    return None if row is None else row.counts


def record_counts(
    db: Database,
    stream: str,
    services: Sequence[str],
    window: TimeWindow,
    rows: list[list[Any]],
) -> None:
    """Record a window's counts; a rerun of the same window replaces them."""
    with db.session() as session:
        exists = session.exec(_window_counts(stream, services, window)).first()
        row = exists or LogWindowCounts(
            stream=stream,
            scope=_scope(services),
            window_start=window.start,
            window_end=window.end,
        )
        row.counts, row.lines, row.recorded_at = rows, sum(int(r[3]) for r in rows), utcnow()
        session.add(row)
