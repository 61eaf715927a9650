"""Fit a usage curve and look ahead, with a prediction interval (pure).

Method. Holt-Winters in its state-space form (statsmodels `ETSModel`: additive error, additive
trend, additive season), fitted by maximum likelihood; its prediction intervals are the
model's analytic ones, which widen with the horizon as level, trend and season uncertainty
accumulate. The season is one day, or one week when the history holds two weeks and the
weekly model has the lower AIC. With less than two seasons of history the fallback is a
damped-trend ETS(A,Ad,N); with very few points, a least-squares line whose residual spread
grows with the square root of the horizon.

Step changes (a bulk import, a restart) would bend the trend and inflate the interval, so
the last persistent level shift is found first (a one-sample jump far outside the usual
sample-to-sample change whose new level holds for a season); the model is fitted on the data
after it when that is two seasons long, otherwise the earlier data is lifted by the jump.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from bot.capacity.models import Forecast, ForecastPoint, ResourceRef

Array = npt.NDArray[np.float64]
DAY = timedelta(days=1)
MIN_POINTS = 3
MIN_DAMPED_POINTS = 10
SHIFT_SIGMAS = 8.0


class ShortHistory(ValueError):
    """Too few points to fit anything."""


@dataclass(frozen=True)
class Fit:
    mean: Array
    lower: Array
    upper: Array
    method: str


def forecast_series(
    resource: ResourceRef,
    history: Sequence[tuple[datetime, float]],
    *,
    capacity: float | None,
    horizon: timedelta,
    interval: float = 0.8,
) -> Forecast:
    """Forecast `horizon` ahead of the last point, at the history's own (regular) step."""
    clean = [(at, value) for at, value in history if math.isfinite(value)]
    if len(clean) < MIN_POINTS:
        raise ShortHistory(f"{resource.label}: {len(clean)} points, need {MIN_POINTS}")
    stamps = [at for at, _ in clean]
    values = np.asarray([value for _, value in clean], dtype=np.float64)
    step = _step(stamps)
    steps = max(1, round(horizon / step))
    fit = fit_and_forecast(values, step, steps, interval)
    last = stamps[-1]
    floor = 0.0 if values.min() >= 0 else -math.inf
    points = tuple(
        ForecastPoint(
            at=last + step * (i + 1),
            mean=float(max(fit.mean[i], floor)),
            lower=float(max(fit.lower[i], floor)),
            upper=float(max(fit.upper[i], floor)),
        )
        for i in range(steps)
    )
    return Forecast(
        resource=resource,
        capacity=capacity,
        used_now=float(values[-1]),
        history=tuple(clean),
        points=points,
        method=fit.method,
        interval=interval,
        history_days=(stamps[-1] - stamps[0]) / DAY,
    )


def fit_and_forecast(values: Array, step: timedelta, steps: int, interval: float) -> Fit:
    """The model choice described in the module docstring, on a regular series."""
    day = max(1, round(DAY / step))
    shift = last_level_shift(values, day)
    note = ""
    if shift is not None:
        index, jump = shift
        if len(values) - index >= 2 * day:
            values, note = (
                values[index:],
                f", fitted after a level shift {len(values) - index} steps ago",
            )
        else:
            values = values.copy()
            values[:index] += jump
            note = f", earlier history lifted by a level shift of {jump:.4g}"
    if len(values) < MIN_DAMPED_POINTS:
        fit = _linear(values, steps, interval)
    elif len(values) < 2 * day + 2 or day < 2:
        fit, _ = _ets(values, steps, interval, season=None, period="")
    else:
        candidates = [_ets(values, steps, interval, season=day, period="daily")]
        if len(values) >= 2 * 7 * day + 2:
            candidates.append(_ets(values, steps, interval, season=7 * day, period="weekly"))
        fit = min(candidates, key=lambda candidate: candidate[1])[0]
    return Fit(fit.mean, fit.lower, fit.upper, fit.method + note)


def last_level_shift(values: Array, season: int) -> tuple[int, float] | None:
    """(index where the new level starts, its jump) of the last persistent level shift."""
    if len(values) < 2 * max(season, 3):
        return None
    diffs = np.diff(values)
    centre = float(np.median(diffs))
    spread = 1.4826 * float(np.median(np.abs(diffs - centre)))
    if spread <= 0:
        spread = float(np.std(diffs)) or 1e-12
    window = max(season, 3)
    for i in np.flatnonzero(np.abs(diffs - centre) > SHIFT_SIGMAS * spread)[::-1]:
        start = int(i) + 1
        before = values[max(0, start - window) : start]
        after = values[start : start + window]
        if len(after) < 3 or len(before) < 3:
            continue
        moved = float(np.median(after) - np.median(before)) - centre * window
        jump = float(diffs[i]) - centre
        if np.sign(moved) == np.sign(jump) and abs(moved) >= 0.5 * abs(jump):
            return start, jump
    return None


def _ets(
    values: Array, steps: int, interval: float, *, season: int | None, period: str
) -> tuple[Fit, float]:
    """Holt-Winters with a `period` season of `season` steps, or damped Holt without one;
    returns the forecast and the model's AIC."""
    # Imported here: pandas + statsmodels cost ~100 MiB, paid only by processes that forecast.
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(
        pd.Series(values),
        error="add",
        trend="add",
        damped_trend=season is None,
        seasonal="add" if season else None,
        seasonal_periods=season,
        initialization_method="heuristic" if season else "estimated",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on flat or tiny series
        result = model.fit(disp=False)
        frame = result.get_prediction(len(values), len(values) + steps - 1).summary_frame(
            alpha=1 - interval
        )
    if season:
        method = f"holt-winters ets(A,A,A), {period} season of {season} steps"
    else:
        method = "damped-trend ets(A,Ad,N), history shorter than two days"
    fit = Fit(
        np.asarray(frame["mean"], dtype=np.float64),
        np.asarray(frame["pi_lower"], dtype=np.float64),
        np.asarray(frame["pi_upper"], dtype=np.float64),
        method,
    )
    return fit, float(result.aic)


def _linear(values: Array, steps: int, interval: float) -> Fit:
    x = np.arange(len(values), dtype=np.float64)
    slope, intercept = np.polyfit(x, values, 1)
    residual = values - (slope * x + intercept)
    sd = float(np.std(residual, ddof=1)) if len(values) > 2 else 0.0
    z = NormalDist().inv_cdf(0.5 + interval / 2)
    ahead = np.arange(1, steps + 1, dtype=np.float64)
    mean = intercept + slope * (len(values) - 1 + ahead)
    half = z * sd * np.sqrt(ahead)
    return Fit(mean, mean - half, mean + half, "linear least squares, history too short")


def _step(stamps: Sequence[datetime]) -> timedelta:
    gaps = sorted(b - a for a, b in itertools.pairwise(stamps))
    return gaps[len(gaps) // 2] if gaps else timedelta(hours=1)
