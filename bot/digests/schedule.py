"""Digests on their schedules: one cron job per digest in the database job store, run once
per fire time across replicas (see `bot.scheduler`)."""

from __future__ import annotations

from datetime import datetime

from bot.digests.output import DigestContext
from bot.digests.registry import DIGESTS, run_digest, schedule_of
from bot.scheduler import Scheduler


def job_name(digest: str) -> str:
    return f"digest:{digest}"


def schedule_digests(scheduler: Scheduler, ctx: DigestContext) -> list[str]:
    """Register every digest with a schedule (and drop the stored jobs of those turned off);
    returns the job names."""
    settings = ctx.deps.settings.digest
    names = []
    for spec in DIGESTS.values():
        schedule = schedule_of(ctx.deps.settings, spec)
        if not settings.enabled or not schedule.strip():
            scheduler.forget(job_name(spec.name))
            continue

        def fire(when: datetime, digest: str = spec.name) -> None:
            run_digest(ctx, digest, when, trigger="schedule")

        scheduler.cron(
            job_name(spec.name),
            schedule,
            fire,
            timezone=settings.timezone,
            grace_seconds=spec.grace_seconds,
        )
        names.append(job_name(spec.name))
    return names
