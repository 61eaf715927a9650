"""Robust change points: where a series' level shifted, using medians and the MAD.

For each candidate split the cost is the sum of absolute deviations from each side's median
(L1 segmentation, insensitive to spikes); the cheapest split is the change point. It counts
when the shift between the two medians is large against the pooled MAD (a robust standard
deviation) and against the level itself.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MAD_TO_SIGMA = 1.4826
MIN_SEGMENT = 5
MIN_SCORE = 6.0
MIN_RELATIVE_SHIFT = 0.25
NOISE_FLOOR = 0.02  # of the level: a perfectly flat series is not infinitely certain
MAX_POINTS = 400


@dataclass(frozen=True)
class ChangePoint:
    index: int  # first point of the new level
    before: float
    after: float
    score: float  # shift in robust standard deviations

    @property
    def relative_shift(self) -> float:
        scale = max(abs(self.before), abs(self.after))
        return abs(self.after - self.before) / scale if scale else 0.0


def _abs_deviation(values: Sequence[float]) -> tuple[float, float]:
    middle = statistics.median(values)
    return middle, sum(abs(v - middle) for v in values)


def best_split(values: Sequence[float], min_segment: int = MIN_SEGMENT) -> int | None:
    """The split index minimising the two segments' total absolute deviation."""
    if len(values) < 2 * min_segment:
        return None
    best: tuple[float, int] | None = None
    for index in range(min_segment, len(values) - min_segment + 1):
        cost = _abs_deviation(values[:index])[1] + _abs_deviation(values[index:])[1]
        if best is None or cost < best[0] - 1e-12:
            best = (cost, index)
    return best[1] if best else None


def change_point(
    values: Sequence[float],
    *,
    min_segment: int = MIN_SEGMENT,
    min_score: float = MIN_SCORE,
    min_relative_shift: float = MIN_RELATIVE_SHIFT,
) -> ChangePoint | None:
    """The level shift in `values` (finite numbers), or None when there is no clear one."""
    clean = [v for v in values if math.isfinite(v)]
    if len(clean) != len(values):
        return None  # gaps would shift indexes; callers pass finite series
    if len(clean) > MAX_POINTS:
        return None
    index = best_split(clean, min_segment)
    if index is None:
        return None
    before, after = clean[:index], clean[index:]
    low, high = statistics.median(before), statistics.median(after)
    pooled = [v - low for v in before] + [v - high for v in after]
    spread = statistics.median(abs(v) for v in pooled) * MAD_TO_SIGMA
    floor = NOISE_FLOOR * max(abs(low), abs(high)) or 1e-12
    score = abs(high - low) / max(spread, floor)
    found = ChangePoint(index=index, before=low, after=high, score=score)
    if score < min_score or found.relative_shift < min_relative_shift:
        return None
    return found
