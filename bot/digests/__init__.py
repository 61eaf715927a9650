"""Scheduled digests and reports posted to Slack with their charts.

`run_digest(rt, name, now=None)` builds and posts one (names: `DIGESTS`); the scheduler
runs them on the crontab schedules in `DigestSettings`.
"""

from bot.digests.registry import DIGESTS, DigestSpec, run_digest

__all__ = ["DIGESTS", "DigestSpec", "run_digest"]
