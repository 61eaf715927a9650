"""What changed in a window of log templates, against the windows before it. Pure functions.

A *window* is a list of ``TemplateCount`` (lines per service, template and level over one
period); the baseline is a list of earlier windows of the same length.

* new templates: seen now, never in any baseline window (nothing is new without a baseline);
* rate jumps: the count now is improbable under a Poisson law with the baseline's mean rate
  (upper tail p-value below ``alpha``), at least ``min_count`` and ``min_ratio`` times that
  mean. A template absent from the baseline has mean rate ``absent_rate`` (half a line per
  window by default), so a burst of a rare template is a jump as well as new;
* top error templates per service: ERROR/CRITICAL/FATAL templates by count.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from bot.analysis.logmine.sampling import ALWAYS_KEPT_LEVELS, Level


class TemplateCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    template_id: str
    template: str
    level: Level = Level.UNKNOWN
    count: int


class NewTemplate(BaseModel):
    service: str
    template_id: str
    template: str
    count: int


class RateJump(BaseModel):
    service: str
    template_id: str
    template: str
    count: int
    baseline_mean: float
    ratio: float
    p_value: float


class WindowFindings(BaseModel):
    new_templates: list[NewTemplate]
    rate_jumps: list[RateJump]
    top_errors: dict[str, list[TemplateCount]]


Key = tuple[str, str]  # (service, template_id)


def _totals(window: Sequence[TemplateCount]) -> dict[Key, int]:
    totals: dict[Key, int] = defaultdict(int)
    for item in window:
        totals[(item.service, item.template_id)] += item.count
    return totals


def _templates(window: Sequence[TemplateCount]) -> dict[Key, str]:
    return {(item.service, item.template_id): item.template for item in window}


def new_templates(
    current: Sequence[TemplateCount], baseline: Sequence[Sequence[TemplateCount]]
) -> list[NewTemplate]:
    """Templates of ``current`` absent from every baseline window, most frequent first."""
    if not baseline:
        return []
    known = {key for window in baseline for key in _totals(window)}
    names = _templates(current)
    found = [
        NewTemplate(service=k[0], template_id=k[1], template=names[k], count=n)
        for k, n in _totals(current).items()
        if k not in known and n > 0
    ]
    return sorted(found, key=lambda f: (-f.count, f.service, f.template_id))


def poisson_upper_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean), summed from k upwards in log space."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if k <= mean:  # not an upper-tail question; the complement is the short sum
        below = sum(math.exp(i * math.log(mean) - mean - math.lgamma(i + 1)) for i in range(k))
        return max(0.0, 1.0 - below)
    log_term = k * math.log(mean) - mean - math.lgamma(k + 1)
    total = 0.0
    i = k
    while True:
        term = math.exp(log_term)
        total += term
        i += 1
        log_term += math.log(mean) - math.log(i)
        if term < total * 1e-12 or i - k > 100_000:
            return min(1.0, total)


def rate_jumps(
    current: Sequence[TemplateCount],
    baseline: Sequence[Sequence[TemplateCount]],
    *,
    min_count: int = 10,
    min_ratio: float = 3.0,
    alpha: float = 1e-3,
    absent_rate: float = 0.5,
) -> list[RateJump]:
    """Templates whose count now is improbably high for their baseline rate."""
    if not baseline:
        return []
    history: dict[Key, int] = defaultdict(int)
    for window in baseline:
        for key, n in _totals(window).items():
            history[key] += n
    names = _templates(current)
    jumps: list[RateJump] = []
    for key, count in _totals(current).items():
        mean = history[key] / len(baseline) if key in history else 0.0
        expected = max(mean, absent_rate)
        ratio = count / expected
        if count < min_count or ratio < min_ratio:
            continue
        p_value = poisson_upper_tail(count, expected)
        if p_value < alpha:
            jumps.append(
                RateJump(
                    service=key[0],
                    template_id=key[1],
                    template=names[key],
                    count=count,
                    baseline_mean=mean,
                    ratio=ratio,
                    p_value=p_value,
                )
            )
    return sorted(jumps, key=lambda j: (j.p_value, -j.ratio, j.service, j.template_id))


def top_error_templates(
    current: Sequence[TemplateCount], *, per_service: int = 5
) -> dict[str, list[TemplateCount]]:
    """ERROR/CRITICAL/FATAL templates of each service, most frequent first."""
    by_service: dict[str, dict[str, TemplateCount]] = defaultdict(dict)
    for item in current:
        if item.level not in ALWAYS_KEPT_LEVELS or item.count <= 0:
            continue
        seen = by_service[item.service].get(item.template_id)
        merged = (
            item if seen is None else seen.model_copy(update={"count": seen.count + item.count})
        )
        by_service[item.service][item.template_id] = merged
    return {
        service: sorted(items.values(), key=lambda t: (-t.count, t.template_id))[:per_service]
        for service, items in sorted(by_service.items())
    }


def window_findings(
    current: Sequence[TemplateCount],
    baseline: Sequence[Sequence[TemplateCount]],
    *,
    min_count: int = 10,
    min_ratio: float = 3.0,
    alpha: float = 1e-3,
    errors_per_service: int = 5,
) -> WindowFindings:
    """All three reports for one window."""
    return WindowFindings(
        new_templates=new_templates(current, baseline),
        rate_jumps=rate_jumps(
            current, baseline, min_count=min_count, min_ratio=min_ratio, alpha=alpha
        ),
        top_errors=top_error_templates(current, per_service=errors_per_service),
    )
