"""Cron jobs in the database: once per fire time across replicas, coalesced after downtime,
skipped past their grace; crontab read the way cron reads it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.scheduler import Scheduler
from bot.settings import DatabaseSettings
from bot.settings.crontab import parse_schedule
from bot.store.db import Database

EVERY_SECOND = "* * * * * *"


class Replica:
    """One bot process's scheduler on the shared database."""

    def __init__(self, url: str) -> None:
        self.db = Database(DatabaseSettings(url=url))
        self.scheduler = Scheduler(self.db)

    def close(self) -> None:
        self.scheduler.stop()
        self.db.dispose()


@pytest.fixture
def replicas() -> Iterator[list[Replica]]:
    made: list[Replica] = []
    yield made
    for replica in made:
        replica.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(DatabaseSettings(url=f"sqlite:///{tmp_path / 'jobs.db'}"))
    database.upgrade()
    yield database
    database.dispose()


def _wait_until(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_two_schedulers_on_one_database_run_each_fire_time_once(
    db: Database, replicas: list[Replica]
) -> None:
    runs: list[tuple[str, datetime]] = []
    lock = threading.Lock()
    for name in ("a", "b"):
        replica = Replica(db.url)
        replicas.append(replica)

        def record(fire_time: datetime, who: str = name) -> None:
            with lock:
                runs.append((who, fire_time))
            time.sleep(0.3)  # a run takes a while: the other replica sees the job due too

        replica.scheduler.cron("digest:test", EVERY_SECOND, record, grace_seconds=60)
        replica.scheduler.start()
    _wait_until(lambda: len({t for _, t in runs}) >= 3)
    with lock:
        fire_times = [t for _, t in runs]
    assert len(fire_times) == len(set(fire_times)), runs
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars().all()
    assert stored == ["digest:test"]


def test_runs_missed_while_every_replica_was_down_run_once_at_start(
    sqlite_db: Database, replicas: list[Replica]
) -> None:
    first = Replica(sqlite_db.url)
    replicas.append(first)
    first.scheduler.cron("digest:late", EVERY_SECOND, lambda _t: None, grace_seconds=3600)
    first.scheduler.start()
    first.scheduler.stop()  # the job and its next run time stay in the database
    time.sleep(2.2)  # at least two fire times pass while nothing runs
    restarted = Replica(sqlite_db.url)
    replicas.append(restarted)
    runs: list[datetime] = []
    started = datetime.now(UTC)
    restarted.scheduler.cron("digest:late", EVERY_SECOND, runs.append, grace_seconds=3600)
    restarted.scheduler.start()
    _wait_until(lambda: any(t > started for t in runs))
    missed = [t for t in runs if t < started]
    assert len(missed) == 1  # coalesced: one run for the latest missed fire time, no burst
    assert (started - missed[0]).total_seconds() < 1.5


def test_a_run_missed_by_more_than_its_grace_is_skipped(
    sqlite_db: Database, replicas: list[Replica]
) -> None:
    due = datetime.now(UTC) + timedelta(seconds=1)
    once_a_minute = f"{due.second} * * * * *"
    first = Replica(sqlite_db.url)
    replicas.append(first)
    first.scheduler.cron("digest:stale", once_a_minute, lambda _t: None, grace_seconds=1)
    first.scheduler.start()
    first.scheduler.stop()
    time.sleep(2.4)  # the fire time passed more than its grace ago
    restarted = Replica(sqlite_db.url)
    replicas.append(restarted)
    runs: list[datetime] = []
    restarted.scheduler.cron("digest:stale", once_a_minute, runs.append, grace_seconds=1)
    restarted.scheduler.start()
    _wait_until(lambda: (restarted.scheduler.cron_jobs()["digest:stale"] or due) > due)
    time.sleep(0.3)
    assert runs == []


def test_crontab_weekdays_count_from_sunday_and_cron_tz_sets_the_zone() -> None:
    wednesday_noon = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)
    monday = parse_schedule("0 9 * * 1").get_next_fire_time(None, wednesday_noon)
    assert monday is not None
    assert monday.strftime("%a %H:%M") == "Mon 09:00"
    sunday = parse_schedule("0 9 * * 0").get_next_fire_time(None, wednesday_noon)
    assert sunday is not None
    assert sunday.strftime("%a") == "Sun"
    paris = parse_schedule("CRON_TZ=Europe/Paris 0 9 * * *").get_next_fire_time(
        None, wednesday_noon
    )
    assert paris is not None
    assert paris.astimezone(UTC).hour == 7  # 09:00 in Paris in June is 07:00 UTC
    with pytest.raises(ValueError, match="crontab"):
        parse_schedule("every day at nine")
