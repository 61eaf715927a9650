"""Periodic jobs (APScheduler 3). A job marked `singleton` runs on one replica at a time,
guarded by a database lease; every job runs inside the scheduler's outer boundary.

Cron jobs (`cron`) live in the database (APScheduler's SQLAlchemyJobStore on the bot's own
engine), so their next run time survives restarts: a run missed while every replica was
down is noticed at the next start and run once (coalesced, never a burst), unless it is
later than the job's grace, then it is skipped. Each fire time runs on exactly one replica:
the run is claimed in the database (an idempotency key of job and fire time) first.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import leases
from bot.deps import guarded
from bot.logs import get_logger
from bot.settings.crontab import parse_schedule
from bot.store.db import Database

log = get_logger("opsbot.scheduler")
CRON_STORE = "database"


def stored_job(name: str) -> None:
    """What the job store records as the callable of a cron job. The `ClaimingExecutor`
    runs the process's own handler for the job instead; this only marks a stray call."""
    log.warning("cron job called outside its executor", job=name)


@dataclass(frozen=True)
class CronJob:
    trigger: CronTrigger
    fn: Callable[[datetime], Any]
    grace_seconds: int


class ClaimingExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs a cron job's latest due fire time once across replicas, within its grace."""

    def __init__(self, db: Database, jobs: dict[str, CronJob], workers: int = 2) -> None:
        super().__init__()
        self._db = db
        self._jobs = jobs
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="cron")

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        future = self._pool.submit(self.run_once, job.id, run_times[-1])
        future.add_done_callback(lambda _done: self._run_job_success(job.id, []))

    def run_once(self, name: str, fire_time: datetime) -> bool:
        """Run `name` for `fire_time` unless too late or already claimed; True if it ran."""
        spec = self._jobs.get(name)
        if spec is None:
            log.warning("cron job without a handler in this process", job=name)
            return False
        late = (datetime.now(UTC) - fire_time).total_seconds()
        if late > spec.grace_seconds:
            log.warning("cron run skipped: later than its grace", job=name, late_s=round(late))
            return False
        key = f"{name}@{fire_time.astimezone(UTC).isoformat()}"
        if not self._db.claim_once("cron", key):
            return False
        guarded("scheduled job", name, spec.fn, fire_time)
        return True

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)


class Scheduler:
    """Interval jobs (`every`) and cron jobs, each run by one replica at a time."""

    def __init__(self, db: Database) -> None:
        """`db` holds the cron jobs and the leases that keep each job to one replica."""
        self.db = db
        self._cron: dict[str, CronJob] = {}
        self._forgotten: set[str] = set()
        self._scheduler = BackgroundScheduler(
            timezone="UTC",
            jobstores={
                "default": MemoryJobStore(),
                CRON_STORE: SQLAlchemyJobStore(engine=db.engine),
            },
            executors={
                "default": ThreadPoolExecutor(10),
                "claiming": ClaimingExecutor(db, self._cron),
            },
            job_defaults={"coalesce": True, "max_instances": 1},
        )

    def every(
        self, seconds: float, name: str, fn: Callable[[], Any], *, singleton: bool = False
    ) -> None:
        def run() -> None:
            if not singleton:
                fn()
                return
            with leases.held(self.db, f"job:{name}", ttl=max(seconds * 2, 30)) as token:
                if token is not None:
                    fn()

        def job() -> None:
            guarded("scheduled job", name, run)

        self._scheduler.add_job(
            job, "interval", seconds=seconds, id=name, name=name, replace_existing=True
        )

    def cron(
        self,
        name: str,
        schedule: str,
        fn: Callable[[datetime], Any],
        *,
        timezone: str = "UTC",
        grace_seconds: int = 3600,
    ) -> None:
        """Call `fn(fire_time)` on a crontab `schedule` (see `parse_schedule`), once per fire
        time across replicas; a run missed by more than `grace_seconds` is skipped."""
        self._cron[name] = CronJob(parse_schedule(schedule, timezone), fn, grace_seconds)
        self._forgotten.discard(name)
        if self._scheduler.running:
            self._store(name)

    def _store(self, name: str) -> None:
        """Add the job to the database store unless it is there with the same schedule:
        then its stored next run time stands, so a run missed during downtime is still due."""
        spec = self._cron[name]
        stored = self._scheduler.get_job(name, jobstore=CRON_STORE)
        if (
            stored is not None
            and repr(stored.trigger) == repr(spec.trigger)
            and stored.misfire_grace_time == spec.grace_seconds
        ):
            return
        self._scheduler.add_job(
            stored_job,
            spec.trigger,
            args=[name],
            id=name,
            name=name,
            jobstore=CRON_STORE,
            executor="claiming",
            misfire_grace_time=spec.grace_seconds,
            coalesce=True,
            replace_existing=True,
        )

    def forget(self, name: str) -> None:
        """Remove a cron job from the database (e.g. a digest whose schedule was emptied)."""
        self._cron.pop(name, None)
        self._forgotten.add(name)
        if self._scheduler.running:
            self._drop(name)

    def _drop(self, name: str) -> None:
        with contextlib.suppress(JobLookupError):  # never stored, or removed by another replica
            self._scheduler.remove_job(name, jobstore=CRON_STORE)

    def cron_jobs(self) -> dict[str, datetime | None]:
        """Every cron job in the database and its next run time."""
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs(jobstore=CRON_STORE)}

    def start(self) -> None:
        self._scheduler.start(paused=True)
        for name in self._forgotten:
            self._drop(name)
        for name in self._cron:
            self._store(name)
        self._scheduler.resume()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
