"""The forecast model on synthetic series: trend with seasons, a step change, flat, short."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bot.capacity.exhaustion import find_exhaustion
from bot.capacity.forecast import ShortHistory, forecast_series
from bot.capacity.models import Metric, ResourceRef, Scope
from bot.settings import CapacitySettings

NOW = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)
VOLUME = ResourceRef(Scope.VOLUME, Metric.VOLUME, "postgres-data", "prod")
SETTINGS = CapacitySettings()


def hourly(values: np.ndarray) -> list[tuple[datetime, float]]:
    start = NOW - timedelta(hours=len(values) - 1)
    return [(start + timedelta(hours=i), float(v)) for i, v in enumerate(values)]


def growing(days: float, *, slope: float, now_level: float, noise: float = 0.1) -> np.ndarray:
    rng = np.random.default_rng(3)
    t = np.arange(-int(days * 24), 1) / 24.0
    daily = 0.4 * np.cos(2 * math.pi * (t - 0.2))
    return now_level + slope * t + daily + rng.normal(0, noise, len(t))


def test_seasonal_growth_runs_out_when_the_trend_says() -> None:
    values = growing(21, slope=1.0, now_level=40.0)  # 10 left at 1/day: 10 days
    forecast = forecast_series(VOLUME, hourly(values), capacity=50.0, horizon=timedelta(days=30))
    found = find_exhaustion(forecast, SETTINGS)
    assert found is not None
    assert found.days_likely == pytest.approx(10.0, abs=0.7)
    assert found.days_likely is not None
    assert found.days_earliest <= found.days_likely
    assert found.severity == "warning"
    assert found.probability > 0.8
    assert "holt-winters" in forecast.method
    first = forecast.points[0]
    last = forecast.points[-1]
    assert (last.upper - last.lower) > (first.upper - first.lower)  # the interval widens


def test_step_change_does_not_bend_the_trend() -> None:
    values = growing(20, slope=1.2, now_level=44.0)
    values[: 20 * 24 - 8 * 24] -= 4.0  # a 4-unit bulk import eight days ago
    values[: 20 * 24 - 8 * 24] -= np.linspace(4.5, 0, 20 * 24 - 8 * 24)  # slower growth before
    forecast = forecast_series(VOLUME, hourly(values), capacity=50.0, horizon=timedelta(days=30))
    found = find_exhaustion(forecast, SETTINGS)
    assert "level shift" in forecast.method
    assert found is not None
    assert found.days_likely == pytest.approx(5.0, abs=0.5)


def test_flat_series_does_not_run_out() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(-28 * 24, 1) / 24.0
    values = 62.0 + 1.5 * np.cos(2 * math.pi * t) + rng.normal(0, 0.4, len(t))
    forecast = forecast_series(VOLUME, hourly(values), capacity=100.0, horizon=timedelta(days=30))
    found = find_exhaustion(forecast, SETTINGS)
    assert found is None or (found.days_likely is None and found.probability < 0.05)
    assert forecast.points[-1].mean == pytest.approx(62.0, abs=3.0)


def test_short_history_falls_back_to_damped_trend_then_a_line() -> None:
    day = growing(1, slope=1.0, now_level=40.0)
    damped = forecast_series(VOLUME, hourly(day), capacity=50.0, horizon=timedelta(days=7))
    assert damped.method.startswith("damped-trend")
    few = forecast_series(
        VOLUME,
        hourly(np.array([1.0, 2.0, 3.1, 3.9, 5.0])),
        capacity=10.0,
        horizon=timedelta(hours=10),
    )
    assert few.method.startswith("linear")
    assert few.points[4].mean == pytest.approx(10.0, abs=0.5)
    with pytest.raises(ShortHistory):
        forecast_series(
            VOLUME, hourly(np.array([1.0, 2.0])), capacity=10.0, horizon=timedelta(days=1)
        )


def test_full_volume_is_critical_now() -> None:
    values = growing(5, slope=0.5, now_level=50.5)
    forecast = forecast_series(VOLUME, hourly(values), capacity=50.0, horizon=timedelta(days=3))
    found = find_exhaustion(forecast, SETTINGS)
    assert found is not None
    assert (found.days_likely, found.severity, found.probability) == (0.0, "critical", 1.0)
