"""What listeners and endpoints are handed: the process's long-lived parts."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bot.cache import Cache, build_cache
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.settings import Settings
from bot.store.db import Database

log = get_logger("opsbot.worker")


def guarded(kind: str, name: str, fn: Callable[..., Any], *args: Any) -> Any:
    """The outer boundary of background work (worker jobs, scheduled jobs, remediation
    runs): an error is logged with the job's name and never kills the thread running it."""
    try:
        return fn(*args)
    except Exception:  # the one outer boundary for background jobs
        log.exception(f"{kind} failed", job=name)
        return None


@dataclass
class Deps:
    settings: Settings
    db: Database
    cache: Cache
    metrics: Metrics = field(default_factory=Metrics)
    workers: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.workers = ThreadPoolExecutor(
            max_workers=self.settings.server.worker_threads, thread_name_prefix="opsbot-work"
        )

    def run_later(self, name: str, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Do slow work after a listener has acked, inside the `guarded` boundary."""
        queue = self.metrics.queue_depth.labels("work")
        queue.inc()

        def job() -> Any:
            queue.dec()
            started = time.perf_counter()
            try:
                return guarded("job", name, fn, *args)
            finally:
                self.metrics.handler_latency.labels(f"job:{name}").observe(
                    time.perf_counter() - started
                )

        return self.workers.submit(job)

    def close(self) -> None:
        self.workers.shutdown(wait=True, cancel_futures=False)
        self.cache.close()
        self.db.dispose()


def build_deps(settings: Settings, *, migrate: bool = True) -> Deps:
    db = Database(settings.database)
    if migrate:
        db.upgrade()
    return Deps(settings=settings, db=db, cache=build_cache(settings.cache))
