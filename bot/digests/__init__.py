"""Scheduled digests and reports posted to Slack with their charts.

`Digests` (built by the composition root, each digest's builder handed what it reads)
builds and posts one by name (names: `DIGESTS`); `schedule_digests` runs them on the
crontab schedules in `DigestSettings`.
"""

from bot.digests.registry import DIGESTS, Digests, DigestSpec

__all__ = ["DIGESTS", "DigestSpec", "Digests"]
