"""Usage curves on a sample grid: level and trend anchored at `now`, daily and weekly cycles,
AR(1) noise and one level shift.

Anchoring the level at `now` (not at the start of the history) makes the story exact: a
volume with `now_level = capacity - 5 * slope` runs out five days from `now`, whatever the
noise and the step change before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DAY = 86_400.0
PEAK_HOUR_UTC = 14.0
Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Shape:
    """One gauge's curve, or one counter's rate, in absolute units (bytes, cores, 1/s)."""

    now_level: float
    slope_per_day: float = 0.0
    daily: float = 0.0  # amplitude of the daily cycle (peak at 14:00 UTC)
    weekly: float = 0.0  # how much lower the level is on Saturdays and Sundays
    noise: float = 0.0  # standard deviation of the AR(1) noise
    shift_days_ago: float | None = None  # a level shift this many days before `now`
    shift: float = 0.0  # its size (the level after minus the level before)
    slope_before_shift: float | None = None  # trend before the shift (default: same slope)
    floor: float = 0.0

    def values(self, days: Array, epoch_days: Array, rng: np.random.Generator) -> Array:
        """The curve at `days` (relative to `now`, so <= 0); `epoch_days` are the same instants
        as days since 1970 (UTC), which place the daily and weekly cycles."""
        level = self.now_level + self.slope_per_day * days
        if self.shift_days_ago is not None:
            at = -self.shift_days_ago
            before_slope = (
                self.slope_per_day if self.slope_before_shift is None else self.slope_before_shift
            )
            at_shift = self.now_level + self.slope_per_day * at - self.shift
            before = at_shift + before_slope * (days - at)
            level = np.where(days < at, before, level)
        hours = (epoch_days * 24.0) % 24.0
        level = level + self.daily * np.cos(2 * np.pi * (hours - PEAK_HOUR_UTC) / 24.0)
        level = level - self.weekly * weekend(epoch_days)
        if self.noise:
            level = level + ar1_noise(len(days), self.noise, rng)
        return np.maximum(level, self.floor)


def weekend(epoch_days: Array) -> Array:
    """1.0 on Saturdays and Sundays (UTC), else 0.0; 1970-01-01 was a Thursday (weekday 3)."""
    weekday = np.floor(epoch_days + 3.0) % 7
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
