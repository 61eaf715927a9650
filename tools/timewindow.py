"""Times and durations as the model writes them, resolved against an injectable clock.

Durations use Prometheus notation (`90s`, `15m`, `1h30m`, `2d`, `1w`). Instants are `now`,
`now-<duration>`, an ISO-8601 / RFC 3339 timestamp, or Unix seconds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field

from tools.base import ErrorKind, ToolArgs, ToolFailure

_UNITS = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
    "y": timedelta(days=365),
}
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_RELATIVE = re.compile(r"^now\s*-\s*(\S+)$")
_REFERENCE_NOW = datetime(2000, 1, 1, tzinfo=UTC)
NICE_STEPS_SECONDS = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200,
    86400, 172800, 604800,
)  # fmt: skip


def parse_duration(text: str) -> timedelta:
    compact = text.strip().replace(" ", "")
    if not _DURATION.match(compact):
        raise ValueError(f"{text!r} is not a duration; write it like 30s, 15m, 1h30m, 2d or 1w")
    total = timedelta()
    for number, unit in _DURATION_PART.findall(compact):
        total += float(number) * _UNITS[unit]
    if total <= timedelta():
        raise ValueError(f"{text!r} must be longer than zero")
    return total


def format_duration(span: timedelta) -> str:
    """Prometheus notation, largest units first (`1d6h`, `15m`, `90s` → `1m30s`)."""
    seconds = round(span.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def nice_interval(span: timedelta, target_points: int, min_step: timedelta) -> timedelta:
    """The smallest "nice" step at or above both `min_step` and span / target_points."""
    wanted = max(span.total_seconds() / target_points, min_step.total_seconds())
    for nice in NICE_STEPS_SECONDS:
        if nice >= wanted:
            return timedelta(seconds=nice)
    return timedelta(seconds=math.ceil(wanted))


def parse_instant(text: str, now: datetime) -> datetime:
    value = text.strip()
    if value == "now":
        return now
    relative = _RELATIVE.match(value)
    if relative:
        return now - parse_duration(relative.group(1))
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError):
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time; use now, now-15m, an RFC 3339 timestamp like "
            "2024-05-01T12:00:00Z, or Unix seconds"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _check_duration(text: str) -> str:
    parse_duration(text)
    return text


def _check_instant(text: str) -> str:
    parse_instant(text, _REFERENCE_NOW)
    return text


Duration = Annotated[str, AfterValidator(_check_duration)]
Instant = Annotated[str, AfterValidator(_check_instant)]


@dataclass(frozen=True)
class TimeWindow:
    start: datetime
    end: datetime

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    def describe(self) -> str:
        return f"{iso(self.start)} to {iso(self.end)} ({format_duration(self.span)})"


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, to the second (milliseconds when present)."""
    utc = moment.astimezone(UTC)
    if utc.microsecond:
        return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return utc.isoformat(timespec="seconds").replace("+00:00", "Z")


class TimeWindowArgs(ToolArgs):
    """A time window: `lookback` before `end`, unless `start` is given."""

    start: Instant | None = Field(
        None,
        description="now-6h, 2024-05-01T12:00:00Z or Unix seconds; default end - lookback.",
    )
    end: Instant | None = Field(None, description="Same formats as start; default now.")
    lookback: Duration = Field(
        "1h", description="Window length when start is omitted: 15m, 6h, 2d."
    )

    def window(self, now: datetime) -> TimeWindow:
        end = parse_instant(self.end, now) if self.end else now
        start = (
            parse_instant(self.start, now) if self.start else end - parse_duration(self.lookback)
        )
        if start >= end:
            raise ToolFailure(
                ErrorKind.INVALID_INPUT,
                f"The window starts ({iso(start)}) at or after it ends ({iso(end)}); "
                "give a start before the end.",
            )
        return TimeWindow(start, end)


def require_span_at_most(window: TimeWindow, limit: timedelta, hint: str) -> None:
    """Refuse windows longer than a configured cap, saying how to narrow them."""
    if window.span > limit:
        raise ToolFailure(
            ErrorKind.TOO_LARGE,
            f"The requested window is {format_duration(window.span)}, longer than the "
            f"{format_duration(limit)} this tool allows. {hint}",
        )
