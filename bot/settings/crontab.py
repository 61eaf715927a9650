"""Crontab lines as the bot's schedule settings write them, read the way cron reads them.

Settings validate schedules with this parser and the scheduler builds its triggers with it,
so a schedule that passes validation is exactly the one that runs.
"""

from __future__ import annotations

import re

from apscheduler.triggers.cron import CronTrigger

_CRON_TZ = re.compile(r"^\s*CRON_TZ=(\S+)\s+")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NUMBER = re.compile(r"(?<![/\d])([0-7])(?!\d)")


def parse_schedule(text: str, timezone: str = "UTC") -> CronTrigger:
    """A crontab line as cron reads it: `m h dom mon dow`, or with a leading seconds field;
    weekday numbers 0-7 count from Sunday; `CRON_TZ=Europe/Paris 0 9 * * *` sets the zone."""
    zone = timezone
    found = _CRON_TZ.match(text)
    if found:
        zone, text = found.group(1), text[found.end() :]
    fields = text.split()
    if len(fields) == 5:
        fields.insert(0, "0")
    if len(fields) != 6:
        raise ValueError(f"{text!r} is not a crontab schedule (minute hour day month weekday)")
    second, minute, hour, day, month, weekday = fields
    weekday = _WEEKDAY_NUMBER.sub(lambda m: _WEEKDAYS[int(m.group(1))], weekday)
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=weekday,
        timezone=zone,
    )
