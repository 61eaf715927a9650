"""Rightsizing: requests that fit observed usage, limits that leave room for its peaks.

Rules (all from `CapacitySettings`):
- request = p95 over the window x `request_headroom`, rounded up (CPU to 5m below 100m and
  10m above, memory to whole MiB);
- memory limit = observed max working set x `limit_headroom` (never less than
  `MIN_LIMIT_HEADROOM`, so at least 30 % above the largest peak, and so above p99 x 1.3),
  never below the new request (`LIMIT_RULE`, stated in the digest's footer);
- CPU limit: none stays none (the request already guarantees the share; a limit only
  throttles); a set limit is kept, since cost follows requests and a lower limit only adds
  throttling, and raised to max x `limit_headroom` (and the new request) when peaks near it;
- under-provisioned (p95 at 95 % of a request or more, memory max at 90 % of its limit or
  more, CPU max at 90 % of its limit or more) is always recommended, up, with its cost as a
  negative saving; otherwise a change must save `min_saving_usd_month` or it is left alone;
- savings count requests only (what the scheduler reserves) for all replicas, at the
  settings' prices for 730 hours a month.
"""

from __future__ import annotations

import math
from datetime import datetime

from bot.capacity.models import ContainerUsage, Rightsizing, Skip
from bot.capacity.usage import container_usage
from bot.settings import CapacitySettings
from policies.quantities import GIB, MIB
from tools.metrics.api import PrometheusApi

HOURS_PER_MONTH = 730
NEAR_REQUEST = 0.95
NEAR_LIMIT = 0.9
MIN_CPU = 0.005
MIN_MEMORY = 16 * MIB
MIN_LIMIT_HEADROOM = 1.3
LIMIT_RULE = (
    "A recommended memory limit is the largest working set seen in the window times the limit "
    f"headroom (OPSBOT_CAPACITY_LIMIT_HEADROOM, never under {MIN_LIMIT_HEADROOM:g}), and never "
    "below the recommended request."
)


def round_cpu(cores: float) -> float:
    """Up to 5m steps below 100m, 10m steps above; at least 5m."""
    millis = max(cores, MIN_CPU) * 1000
    step = 5 if millis < 100 else 10
    return math.ceil(round(millis, 6) / step) * step / 1000


def round_memory(size: float) -> float:
    """Up to whole MiB; at least 16Mi."""
    return float(math.ceil(round(max(size, MIN_MEMORY) / MIB, 6)) * MIB)


def _cpu(cores: float) -> str:
    return f"{cores * 1000:.0f}m"


def _mem(size: float) -> str:
    return f"{size / MIB:.0f}Mi"


def _share(used: float, requested: float | None) -> str:
    return f" ({used / requested:.0%})" if requested else ""


def under_provisioned(usage: ContainerUsage) -> list[str]:
    """Why the container needs more than it has ([] when it does not)."""
    found: list[str] = []
    if usage.cpu_request is None or usage.cpu_p95 >= NEAR_REQUEST * usage.cpu_request:
        found.append(
            f"CPU p95 {_cpu(usage.cpu_p95)} against a request of "
            f"{_cpu(usage.cpu_request) if usage.cpu_request else 'none'}"
        )
    if usage.memory_request is None or usage.memory_p95 >= NEAR_REQUEST * usage.memory_request:
        found.append(
            f"memory p95 {_mem(usage.memory_p95)} against a request of "
            f"{_mem(usage.memory_request) if usage.memory_request else 'none'}"
        )
    if usage.memory_limit is not None and usage.memory_max >= NEAR_LIMIT * usage.memory_limit:
        found.append(
            f"memory max {_mem(usage.memory_max)} is close to its limit "
            f"{_mem(usage.memory_limit)} (OOM kills)"
        )
    if usage.cpu_limit is not None and usage.cpu_max >= NEAR_LIMIT * usage.cpu_limit:
        found.append(
            f"CPU max {_cpu(usage.cpu_max)} is close to its limit "
            f"{_cpu(usage.cpu_limit)} (throttling)"
        )
    return found


def _limit_why(usage: ContainerUsage, limit: float) -> str:
    if usage.memory_max <= 0:
        return "no memory peak observed"
    return f"{limit / usage.memory_max:.1f}x the {_mem(usage.memory_max)} peak"


def cpu_limit_for(usage: ContainerUsage, request: float, headroom: float) -> float | None:
    if usage.cpu_limit is None:
        return None
    return max(usage.cpu_limit, request, round_cpu(usage.cpu_max * headroom))


def recommend(usage: ContainerUsage, settings: CapacitySettings) -> Rightsizing | None:
    """The recommendation for one container, or None: too little history, already right,
    or a saving too small to be worth a restart."""
    if usage.history_days < settings.min_history_days:
        return None
    cpu_request = round_cpu(usage.cpu_p95 * settings.request_headroom)
    memory_request = round_memory(usage.memory_p95 * settings.request_headroom)
    headroom = max(settings.limit_headroom, MIN_LIMIT_HEADROOM)
    memory_limit = max(memory_request, round_memory(usage.memory_max * headroom))
    cpu_limit = cpu_limit_for(usage, cpu_request, settings.limit_headroom)
    unchanged = (
        cpu_request == usage.cpu_request
        and memory_request == usage.memory_request
        and memory_limit == usage.memory_limit
        and cpu_limit == usage.cpu_limit
    )
    if unchanged:
        return None
    cores = ((usage.cpu_request or 0.0) - cpu_request) * usage.replicas
    gib = ((usage.memory_request or 0.0) - memory_request) * usage.replicas / GIB
    usd = (
        cores * settings.cpu_core_hour_usd + gib * settings.memory_gib_hour_usd
    ) * HOURS_PER_MONTH
    short = under_provisioned(usage)
    if not short and usd < settings.min_saving_usd_month:
        return None
    money = f"saves ${usd:,.2f}/month" if usd >= 0 else f"costs ${-usd:,.2f}/month more"
    totals = f"{cores:+.2f} cores, {gib:+.2f} GiB requested freed; {money}"
    if short:
        reason = f"under-provisioned: {'; '.join(short)}; {totals}"
    else:
        reason = (
            f"over-provisioned: CPU p95 {_cpu(usage.cpu_p95)}"
            f"{_share(usage.cpu_p95, usage.cpu_request)} of the request, memory p95 "
            f"{_mem(usage.memory_p95)}{_share(usage.memory_p95, usage.memory_request)}; "
            f"{totals}"
        )
    return Rightsizing(
        usage=usage,
        cpu_request=cpu_request,
        cpu_limit=cpu_limit,
        memory_request=memory_request,
        memory_limit=memory_limit,
        saving_cores=cores,
        saving_gib=gib,
        saving_usd_month=usd,
        reason=f"{reason}; memory limit {_mem(memory_limit)}: {_limit_why(usage, memory_limit)} "
        f"(over {usage.history_days:.0f} days, {usage.replicas} replicas)",
    )


def rightsize_all(
    prom: PrometheusApi,
    settings: CapacitySettings,
    now: datetime,
    namespace: str | None = None,
) -> tuple[list[Rightsizing], list[Skip]]:
    """Recommendations for every deployment container (largest saving first; under-
    provisioned ones, with negative savings, last) and what could not be analysed."""
    usages, skipped = container_usage(prom, settings, now, namespace)
    found = [r for usage in usages if (r := recommend(usage, settings)) is not None]
    found.sort(key=lambda r: -r.saving_usd_month)
    return found, skipped
