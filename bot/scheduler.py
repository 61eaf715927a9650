"""Periodic jobs (APScheduler 3). A job marked `singleton` runs on one replica at a time,
guarded by a database lease; every job runs inside the scheduler's outer boundary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from bot import leases
from bot.deps import Deps
from bot.logs import get_logger

log = get_logger("opsbot.scheduler")


class Scheduler:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._scheduler = BackgroundScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1}
        )

    def every(
        self, seconds: float, name: str, fn: Callable[[], Any], *, singleton: bool = False
    ) -> None:
        def job() -> None:
            try:
                if singleton:
                    with leases.held(
                        self.deps.db, f"job:{name}", ttl=max(seconds * 2, 30)
                    ) as token:
                        if token is not None:
                            fn()
                    return
                fn()
            except Exception:  # outer boundary: the scheduler job wrapper
                log.exception("scheduled job failed", job=name)

        self._scheduler.add_job(
            job, "interval", seconds=seconds, id=name, name=name, replace_existing=True
        )

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
