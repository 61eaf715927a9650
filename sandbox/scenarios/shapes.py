"""Deterministic shapes for generated metrics: daily seasonality, noise, ramps.

Noise is a pure function of (key, timestamp), so a series does not depend on how long the
history is or in which order series are written.
"""

from __future__ import annotations

import hashlib
import math

DAY = 86400
PEAK_HOUR_UTC = 14.0


def diurnal(at: float, depth: float = 0.45) -> float:
    """Traffic's daily cycle: 1.0 at the afternoon peak, 1 - 2*depth at night."""
    hours = (at % DAY) / 3600.0
    return 1.0 - depth + depth * math.cos(2 * math.pi * (hours - PEAK_HOUR_UTC) / 24.0)


def _unit(key: str, bucket: int) -> float:
    digest = hashlib.blake2b(f"{key}:{bucket}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def noise(key: str, at: float, scale: float = 0.05, period: float = 60.0) -> float:
    """Smooth noise around 0 (about +-scale): value noise interpolated across `period`."""
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
