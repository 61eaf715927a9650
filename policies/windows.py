"""Time windows for change freezes: recurring weekly ranges and absolute date ranges."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
_CLOCK = re.compile(r"^(?:(?P<day>[a-z]{3})\s+)?(?P<hour>\d{1,2}):(?P<minute>[0-5]\d)$")


def zone(name: str) -> tzinfo:
    """The IANA timezone `name`; ValueError when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f"unknown timezone {name!r} (use an IANA name like Europe/Berlin)"
        ) from error


def _clock(value: str) -> tuple[int | None, int]:
    """Parse "HH:MM" or "fri HH:MM" into (weekday index or None, minute of day)."""
    found = _CLOCK.match(value.strip().lower())
    if found is None:
        raise ValueError(f'bad time {value!r}: expected "HH:MM" or "fri HH:MM"')
    hour, minute = int(found["hour"]), int(found["minute"])
    if hour > 24 or (hour == 24 and minute):
        raise ValueError(f"bad time {value!r}: hours run 00..24")
    day = found["day"]
    if day is not None and day not in WEEKDAYS:
        raise ValueError(f"bad weekday {day!r} in {value!r}: use one of {', '.join(WEEKDAYS)}")
    return (None if day is None else WEEKDAYS.index(day)), hour * 60 + minute


def _sexagesimal_to_clock(value: Any) -> Any:
    """YAML 1.1 reads an unquoted 16:00 as the integer 960 (base 60): turn it back into a clock."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MINUTES_PER_DAY:
        return f"{value // 60:02d}:{value % 60:02d}"
    return value


class WeeklyWindow(BaseModel):
    """Either a span across the week ("fri 16:00" → "mon 08:00") or, on each of `days`,
    a daily range ("22:00" → "06:00" runs past midnight into the next day)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: tuple[Weekday, ...] | None = None
    start: str
    end: str

    _normalise = field_validator("start", "end", mode="before")(_sexagesimal_to_clock)

    @model_validator(mode="after")
    def _well_formed(self) -> Self:
        (start_day, _), (end_day, _) = _clock(self.start), _clock(self.end)
        if (start_day is None) != (end_day is None):
            raise ValueError("give a weekday on both start and end, or on neither")
        if start_day is not None and self.days is not None:
            raise ValueError('"days" cannot be combined with "fri 16:00"-style start/end')
        if not self.intervals():
            raise ValueError(f"window {self.start} → {self.end} is empty")
        return self

    def intervals(self) -> list[tuple[int, int]]:
        """(start minute of the week, length in minutes) for each occurrence."""
        (start_day, start), (end_day, end) = _clock(self.start), _clock(self.end)
        if start_day is not None and end_day is not None:
            begin = start_day * MINUTES_PER_DAY + start
            length = (end_day * MINUTES_PER_DAY + end - begin) % MINUTES_PER_WEEK
            return [(begin, length)] if length else []
        length = (end - start) % MINUTES_PER_DAY or (MINUTES_PER_DAY if end != start else 0)
        days = self.days if self.days is not None else WEEKDAYS
        return (
            [(WEEKDAYS.index(d) * MINUTES_PER_DAY + start, length) for d in days] if length else []
        )

    def contains(self, local: datetime) -> bool:
        minute = local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute
        return any(
            (minute - begin) % MINUTES_PER_WEEK < length for begin, length in self.intervals()
        )

    def __str__(self) -> str:
        days = f"{','.join(self.days)} " if self.days is not None else ""
        return f"{days}{self.start} to {self.end}"


class DateRange(BaseModel):
    """An absolute range; plain dates are whole days (the end date included)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: datetime | date
    end: datetime | date

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes; naive values are read in `tz`."""

        def aware(value: datetime | date, *, is_end: bool) -> datetime:
            if not isinstance(value, datetime):
                day = value + timedelta(days=1) if is_end else value
                return datetime.combine(day, time(0), tzinfo=tz)
            return value if value.tzinfo is not None else value.replace(tzinfo=tz)

        return aware(self.start, is_end=False), aware(self.end, is_end=True)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        begin, end = self.bounds(ZoneInfo("UTC"))
        if end <= begin:
            raise ValueError(f"date range {self.start} → {self.end} ends before it starts")
        return self

    def contains(self, now: datetime, tz: tzinfo) -> bool:
        begin, end = self.bounds(tz)
        return begin <= now < end

    def __str__(self) -> str:
        return f"{self.start} → {self.end}"


def any_window_open(
    now: datetime, timezone: str, weekly: Iterable[WeeklyWindow], dates: Iterable[DateRange]
) -> bool:
    """Is `now` inside one of the windows, read in `timezone`?"""
    tz = zone(timezone)
    local = now.astimezone(tz)
    return any(w.contains(local) for w in weekly) or any(d.contains(now, tz) for d in dates)
