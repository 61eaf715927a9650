"""When things happen in a loaded scenario, relative to the moment it is loaded."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.scenarios.shapes import SceneClock

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | int | float) -> int:
    """`90s`, `25m`, `6h`, `2d` (or plain seconds) as whole seconds."""
    if isinstance(text, int | float):
        return int(text)
    found = _DURATION.match(text.strip())
    if found is None:
        raise ValueError(f"bad duration {text!r}: use e.g. 90s, 25m, 6h, 2d")
    return int(found[1]) * _UNITS[found[2]]


@dataclass(frozen=True)
class Timeline:
    """Unix seconds on a grid of `step`: history from `start`, the incident from
    `incident`, the load moment `now`, and samples written on until `end` (the horizon), so
    the incident is still "live" for a while after loading."""

    start: int
    incident: int
    now: int
    end: int
    step: int

    @classmethod
    def ending_now(
        cls,
        *,
        incident_ago: int,
        history: int = 12 * 3600,
        step: int = 60,
        horizon: int = 3600,
        now: float | None = None,
    ) -> Timeline:
        if not 0 < incident_ago < history:
            raise ValueError("the incident must start inside the history window")
        moment = int(time.time() if now is None else now) // step * step
        return cls(
            start=moment - history // step * step,
            incident=moment - incident_ago,
            now=moment,
            end=moment + horizon // step * step,
            step=step,
        )

    def grid(self) -> range:
        """Every sample time from the start of history to the horizon."""
        return range(self.start, self.end + 1, self.step)

    @property
    def clock(self) -> SceneClock:
        """The scenario's own clock: shapes anchored to the incident, not the time of day."""
        return SceneClock(self.incident)

    def datetime(self, at: float) -> datetime:
        return datetime.fromtimestamp(at, UTC)
