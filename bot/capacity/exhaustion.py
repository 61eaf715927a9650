"""When does a forecast run out of capacity, how sure is it, and how urgent is that (pure).

The probability reads each forecast point as a normal distribution whose central
`forecast.interval` share lies between `lower` and `upper`; the chance to cross within the
warn horizon is the largest per-point chance over that horizon (a lower bound of the
crossing probability, exact for monotone growth).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from statistics import NormalDist

from bot.capacity.models import Exhaustion, Forecast, ForecastPoint
from bot.settings import CapacitySettings

DAY = timedelta(days=1)
NORMAL = NormalDist()


def find_exhaustion(forecast: Forecast, settings: CapacitySettings) -> Exhaustion | None:
    """The forecast's 'runs out in N days', or None (no capacity, or not even the upper
    bound reaches it within the forecast horizon)."""
    capacity = forecast.capacity
    if capacity is None or capacity <= 0 or not forecast.points:
        return None
    start = _start(forecast)
    if forecast.used_now >= capacity:
        return Exhaustion(forecast, 0.0, 0.0, 1.0, "critical")
    earliest = _crossing(forecast, lambda p: p.upper, capacity)
    if earliest is None:
        return None
    likely = _crossing(forecast, lambda p: p.mean, capacity)
    days_likely = None if likely is None else (likely - start) / DAY
    return Exhaustion(
        forecast=forecast,
        days_likely=days_likely,
        days_earliest=(earliest - start) / DAY,
        probability=crossing_probability(forecast, capacity, settings.warn_within_days),
        severity=severity(days_likely, settings),
    )


def severity(days_likely: float | None, settings: CapacitySettings) -> str:
    if days_likely is not None and days_likely <= settings.critical_within_days:
        return "critical"
    if days_likely is not None and days_likely <= settings.warn_within_days:
        return "warning"
    return "info"


def crossing_probability(forecast: Forecast, capacity: float, within_days: float) -> float:
    z = NORMAL.inv_cdf(0.5 + forecast.interval / 2)
    first = forecast.points[0].at
    best = 0.0
    for point in forecast.points:
        if (point.at - first) / DAY > within_days:
            break
        sd = (point.upper - point.lower) / (2 * z)
        if sd <= 0:
            chance = 1.0 if point.mean >= capacity else 0.0
        else:
            chance = 1.0 - NORMAL.cdf((capacity - point.mean) / sd)
        best = max(best, chance)
    return best


def _start(forecast: Forecast) -> datetime:
    """The instant 'now' of the forecast: its last history point."""
    if forecast.history:
        return forecast.history[-1][0]
    points = forecast.points
    step = points[1].at - points[0].at if len(points) > 1 else DAY / 24
    return points[0].at - step


def _crossing(
    forecast: Forecast, value: Callable[[ForecastPoint], float], capacity: float
) -> datetime | None:
    """When `value` of the forecast first reaches `capacity`, interpolated between points."""
    previous_at, previous = _start(forecast), forecast.used_now
    for point in forecast.points:
        current = value(point)
        if current >= capacity:
            if current <= previous:
                return point.at
            share = max(0.0, (capacity - previous) / (current - previous))
            return previous_at + (point.at - previous_at) * min(share, 1.0)
        previous_at, previous = point.at, current
    return None
