"""Usage curves on a sample grid: level and trend anchored at `now`, daily and weekly cycles,
AR(1) noise and one level shift.

The cycles are placed on the history's own clock (`now` is always a Wednesday at 11:00 on
it), not on the wall clock's day and hour, so the same history is written whenever it is
generated.

Anchoring the level at `now` (not at the start of the history) makes the story exact: a
volume with `now_level = capacity - 5 * slope` runs out five days from `now`, whatever the
noise and the step change before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DAY = 86_400.0
PEAK_HOUR = 14.0
NOW_SCENE_DAYS = 6.0 + 11.0 / 24.0  # `now` on the scene's calendar: day 6, Wednesday 11:00
Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Shape:
    """One gauge's curve, or one counter's rate, in absolute units (bytes, cores, 1/s)."""

    now_level: float
    slope_per_day: float = 0.0
    daily: float = 0.0  # amplitude of the daily cycle (peak at 14:00 scene time)
    weekly: float = 0.0  # how much lower the level is on Saturdays and Sundays
    noise: float = 0.0  # standard deviation of the AR(1) noise
    shift_days_ago: float | None = None  # a level shift this many days before `now`
    shift: float = 0.0  # its size (the level after minus the level before)
    slope_before_shift: float | None = None  # trend before the shift (default: same slope)
    floor: float = 0.0

    def values(self, days: Array, rng: np.random.Generator) -> Array:
        """The curve at `days` (relative to `now`, so <= 0); the daily and weekly cycles are
        placed by `scene_days(days)`."""
        level = self.now_level + self.slope_per_day * days
        if self.shift_days_ago is not None:
            at = -self.shift_days_ago
            before_slope = (
                self.slope_per_day if self.slope_before_shift is None else self.slope_before_shift
            )
            at_shift = self.now_level + self.slope_per_day * at - self.shift
            before = at_shift + before_slope * (days - at)
            level = np.where(days < at, before, level)
        calendar = scene_days(days)
        hours = (calendar * 24.0) % 24.0
        level = level + self.daily * np.cos(2 * np.pi * (hours - PEAK_HOUR) / 24.0)
        level = level - self.weekly * weekend(calendar)
        if self.noise:
            level = level + ar1_noise(len(days), self.noise, rng)
        return np.maximum(level, self.floor)


def scene_days(days: Array) -> Array:
    """Instants relative to `now` (in days) as days on the scene's calendar, whose day 0 is
    a Thursday."""
    return days + NOW_SCENE_DAYS


def weekend(calendar: Array) -> Array:
    """1.0 on Saturdays and Sundays of the scene's calendar, else 0.0 (day 0 is a Thursday,
    weekday 3)."""
    weekday = np.floor(calendar + 3.0) % 7
    return (weekday >= 5).astype(np.float64)


def ar1_noise(count: int, scale: float, rng: np.random.Generator, phi: float = 0.7) -> Array:
    """Correlated noise with standard deviation `scale`: real usage wanders, it does not jump."""
    shocks = rng.normal(0.0, scale * np.sqrt(1 - phi * phi), count)
    out = np.empty(count)
    previous = rng.normal(0.0, scale)
    for index in range(count):
        previous = phi * previous + shocks[index]
        out[index] = previous
    return out


def cumulative(rate: Array, step_seconds: float, start: float = 0.0) -> Array:
    """A counter from a per-second rate: monotone, as Prometheus expects."""
    return start + np.cumsum(np.maximum(rate, 0.0) * step_seconds)
