"""Digests on their schedules: one cron job per digest in the database job store, run once
per fire time across replicas (see `bot.scheduler`)."""

from __future__ import annotations

from datetime import datetime

from bot.digests.registry import DIGESTS, Digests
from bot.scheduler import Scheduler


def job_name(digest: str) -> str:
    """The scheduler's job name of a digest."""
    return f"digest:{digest}"


def schedule_digests(scheduler: Scheduler, digests: Digests) -> list[str]:
    """Register every digest with a schedule (and drop the stored jobs of those turned off);
    returns the job names."""
    names = []
    for spec in DIGESTS.values():
        schedule = digests.schedule(spec)
        if not schedule.strip():
            scheduler.forget(job_name(spec.name))
            continue

        def fire(when: datetime, digest: str = spec.name) -> None:
            digests.run(digest, when, trigger="schedule")

        scheduler.cron(
            job_name(spec.name),
            schedule,
            fire,
            timezone=digests.settings.timezone,
            grace_seconds=spec.grace_seconds,
        )
        names.append(job_name(spec.name))
    return names
