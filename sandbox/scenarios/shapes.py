"""Deterministic shapes for generated metrics: daily seasonality, noise, ramps.

Noise is a pure function of (key, scene time), so a series does not depend on how long the
history is or in which order series are written. Seasonality and noise read the scenario's
own clock (`SceneClock`), never the wall clock's time of day: a pack loaded at 01:00 or at
15:00 UTC produces the same values at the same offset from its incident.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

DAY = 86400
PEAK_HOUR = 14.0  # the scene's afternoon peak
INCIDENT_SCENE_TIME = 10 * DAY + 13 * 3600  # every incident starts at 13:00 on scene day 10


@dataclass(frozen=True)
class SceneClock:
    """The scenario's own clock, anchored to its incident start.

    Generators are handed wall-clock Unix seconds (they are what Prometheus, the log store
    and Jaeger receive) and read every shape through this clock, so the daily cycle and the
    noise sit at the same place relative to the incident whenever the pack is loaded.
    """

    incident: float  # wall-clock Unix seconds at which the incident starts

    def scene(self, at: float) -> float:
        """`at` (Unix seconds) as seconds on the scene's clock."""
        return at - self.incident + INCIDENT_SCENE_TIME

    def diurnal(self, at: float, depth: float = 0.45) -> float:
        """Traffic's daily cycle: 1.0 at the afternoon peak, 1 - 2*depth at night."""
        hours = (self.scene(at) % DAY) / 3600.0
        return 1.0 - depth + depth * math.cos(2 * math.pi * (hours - PEAK_HOUR) / 24.0)

    def noise(self, key: str, at: float, scale: float = 0.05, period: float = 60.0) -> float:
        """Smooth noise around 0 at `at` (see `noise`)."""
        return noise(key, self.scene(at), scale, period)

    def jitter(self, key: str, at: float, scale: float = 0.05) -> float:
        """Sample-to-sample noise at `at` (see `jitter`)."""
        return jitter(key, self.scene(at), scale)


def _unit(key: str, bucket: int) -> float:
    digest = hashlib.blake2b(f"{key}:{bucket}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def noise(key: str, at: float, scale: float = 0.05, period: float = 60.0) -> float:
    """Smooth noise around 0 (about +-scale): value noise interpolated across `period`;
    `at` is scene time (`SceneClock.scene`)."""
    position = at / period
    low = math.floor(position)
    frac = position - low
    smooth = frac * frac * (3 - 2 * frac)
    a, b = _unit(key, low), _unit(key, low + 1)
    return scale * 2.0 * ((a + (b - a) * smooth) - 0.5)


def jitter(key: str, at: float, scale: float = 0.05) -> float:
    """Sample-to-sample noise: a multiplier around 1.0."""
    return 1.0 + noise(key, at, scale, period=1.0) + noise(key + "~", at, scale, period=900.0)


def ramp(at: float, start: float, seconds: float) -> float:
    """0 before `start`, rising linearly to 1 over `seconds`."""
    if at < start:
        return 0.0
    if seconds <= 0:
        return 1.0
    return min(1.0, (at - start) / seconds)


def lognormal_cdf(value: float, median: float, sigma: float) -> float:
    """Share of a log-normal latency distribution at or below `value`."""
    if value <= 0:
        return 0.0
    z = (math.log(value) - math.log(median)) / (sigma * math.sqrt(2.0))
    return 0.5 * (1.0 + math.erf(z))


def stable_fraction(key: str, low: float, high: float) -> float:
    """A fixed number in [low, high) chosen by `key`."""
    return low + (high - low) * _unit(key, 0)
