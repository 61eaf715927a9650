"""Sandbox time: it moves only when told to (tests) or when the driver thread advances it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """A settable clock shared by every controller; `advance` is the only way time passes."""

    def __init__(self, start: datetime | None = None) -> None:
        base = start or datetime.now(UTC)
        self._now = base.astimezone(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)


def format_time(when: datetime) -> str:
    """metav1.Time: RFC 3339 with second precision."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(when: datetime) -> str:
    """metav1.MicroTime: RFC 3339 with microseconds (leases, eventTime)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_nano_time(when: datetime) -> str:
    """RFC 3339 with nanoseconds, as the kubelet prefixes log lines with `timestamps=true`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _with_rest(major: int, unit: str, minor: int, minor_unit: str) -> str:
    return f"{major}{unit}" if minor == 0 else f"{major}{unit}{minor}{minor_unit}"


_MINUTE, _HOUR, _DAY, _YEAR = 60, 3600, 86400, 86400 * 365
# (below this many seconds, render like this) in the order kubectl's HumanDuration checks them
_AGE_RULES: tuple[tuple[int, Callable[[int], str]], ...] = (
    (2 * _MINUTE, lambda s: f"{s}s"),
    (10 * _MINUTE, lambda s: _with_rest(s // _MINUTE, "m", s % _MINUTE, "s")),
    (3 * _HOUR, lambda s: f"{s // _MINUTE}m"),
    (8 * _HOUR, lambda s: _with_rest(s // _HOUR, "h", (s // _MINUTE) % 60, "m")),
    (48 * _HOUR, lambda s: f"{s // _HOUR}h"),
    (8 * _DAY, lambda s: _with_rest(s // _DAY, "d", (s // _HOUR) % 24, "h")),
    (2 * _YEAR, lambda s: f"{s // _DAY}d"),
    (8 * _YEAR, lambda s: _with_rest(s // _YEAR, "y", (s // _DAY) % 365, "d")),
)


def human_duration(seconds: float) -> str:
    """The compact age format kubectl tables use (5s, 3m2s, 45m, 5h3m, 3d4h, 2y)."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    whole = max(whole, 0)
    rule = next((render for limit, render in _AGE_RULES if whole < limit), None)
    return rule(whole) if rule else f"{whole // _YEAR}y"
