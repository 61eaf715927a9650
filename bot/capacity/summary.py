"""Capacity results as short plain-text lines, shared by the digest, `/opsbot capacity`,
the pattern engine's answers and the agent's capacity tools (one wording everywhere)."""

from __future__ import annotations

from datetime import datetime

from bot.capacity.models import (
    CapacityReport,
    Exhaustion,
    Forecast,
    IdleKind,
    IdleResource,
    Metric,
    ResourceRef,
    Rightsizing,
    Scope,
)

GIB = 1024**3
IDLE_KINDS = {
    IdleKind.IDLE_WORKLOAD: "idle workload",
    IdleKind.UNATTACHED_VOLUME: "unattached volume",
    IdleKind.SCALED_TO_ZERO: "scaled to zero",
    IdleKind.FAILED_JOB: "failed job",
}


def amount(value: float, metric: Metric) -> str:
    """Cores for CPU, GiB (or MiB when small) for everything measured in bytes."""
    if metric is Metric.CPU:
        return f"{value:,.2f} cores" if value < 10 else f"{value:,.0f} cores"
    gib = value / GIB
    if gib < 1:
        return f"{value / 1024**2:,.0f} MiB"
    return f"{gib:,.1f} GiB" if gib < 100 else f"{gib:,.0f} GiB"


def cores(value: float | None) -> str:
    if value is None:
        return "unset"
    return f"{value * 1000:,.0f}m" if value < 1 else f"{value:,.2f}"


def memory(value: float | None) -> str:
    if value is None:
        return "unset"
    mib = value / 1024**2
    return f"{mib:,.0f}Mi" if mib < 1024 else f"{mib / 1024:,.1f}Gi"


def days(value: float | None) -> str:
    if value is None:
        return "not within the horizon"
    if value < 1:
        return f"{value * 24:,.0f} hours"
    return f"{value:,.1f} days"


def money(value: float) -> str:
    return f"${value:,.2f}" if abs(value) < 1000 else f"${value:,.0f}"


def resource_name(ref: ResourceRef) -> str:
    """`prod/postgres-data (volume)`, `node worker-1 / (disk)`, `prod/legacy-report (container
    report, memory)`: a workload's container is named as one, not run on after the workload's
    name (which read "legacy-report report")."""
    where = f"{ref.namespace}/{ref.name}" if ref.namespace else f"node {ref.name}"
    if ref.scope is Scope.WORKLOAD and ref.detail:
        return f"{where} (container {ref.detail}, {ref.metric.value})"
    detail = f" {ref.detail}" if ref.detail else ""
    return f"{where}{detail} ({ref.metric.value})"


def days_latest(forecast: Forecast, now: datetime) -> float | None:
    """When the lower interval bound crosses capacity: the late end of the interval."""
    if forecast.capacity is None:
        return None
    for point in forecast.points:
        if point.lower >= forecast.capacity:
            return max(0.0, (point.at - now).total_seconds() / 86400)
    return None


def interval_text(exhaustion: Exhaustion, now: datetime) -> str:
    latest = days_latest(exhaustion.forecast, now)
    share = f"{exhaustion.forecast.interval:.0%}"
    late = f"{latest:,.1f}" if latest is not None else "beyond the horizon"
    return f"{share} interval {exhaustion.days_earliest:,.1f}-{late} days"


def usage_text(forecast: Forecast) -> str:
    metric = forecast.resource.metric
    used = amount(forecast.used_now, metric)
    if forecast.capacity is None:
        return f"{used} used, no limit"
    share = forecast.used_now / forecast.capacity if forecast.capacity else 0.0
    return f"{used} of {amount(forecast.capacity, metric)} used ({share:.0%})"


def when_full(exhaustion: Exhaustion, now: datetime) -> str:
    """`full in ~5.0 days (80% interval 4.2-6.3 days)`, or when only the interval's upper
    bound crosses: `may run out: the interval's upper bound reaches capacity in 82.9 days`."""
    if exhaustion.days_likely is None:
        chance = exhaustion.probability
        odds = f", {chance:.0%} likely within the horizon" if chance >= 0.01 else ""
        return (
            f"may run out: the interval's upper bound reaches capacity in "
            f"{days(exhaustion.days_earliest)}{odds}"
        )
    return f"full in ~{days(exhaustion.days_likely)} ({interval_text(exhaustion, now)})"


def exhaustion_line(exhaustion: Exhaustion, now: datetime) -> str:
    """`prod/postgres-data (volume): full in ~5.1 days (80% interval 4.2-6.3 days); 82.0 GiB
    of 100.0 GiB used (82%)`."""
    forecast = exhaustion.forecast
    name = resource_name(forecast.resource)
    return f"{name}: {when_full(exhaustion, now)}; {usage_text(forecast)}"


def limit_headroom(item: Rightsizing) -> str:
    """Why the recommended memory limit is safe: how far above the observed peak it sits."""
    peak = item.usage.memory_max
    if peak <= 0:
        return "no memory peak observed"
    return f"{item.memory_limit / peak:.1f}x the {memory(peak)} peak"


def rightsizing_change(item: Rightsizing) -> str:
    """`cpu 500m→50m, memory 512Mi→192Mi, memory limit 768Mi→222Mi (1.5x the 148Mi peak)`:
    the limit is shown whenever it changes, with its headroom over the observed peak."""
    usage = item.usage
    text = (
        f"cpu {cores(usage.cpu_request)}→{cores(item.cpu_request)}, "
        f"memory {memory(usage.memory_request)}→{memory(item.memory_request)}"
    )
    if item.memory_limit != usage.memory_limit:
        text += (
            f", memory limit {memory(usage.memory_limit)}→{memory(item.memory_limit)} "
            f"({limit_headroom(item)})"
        )
    return text


def workload_name(item: Rightsizing) -> str:
    usage = item.usage
    return f"{usage.namespace}/{usage.workload} ({usage.container}, {usage.replicas}x)"


def rightsizing_line(item: Rightsizing) -> str:
    return (
        f"{workload_name(item)}: {rightsizing_change(item)}, saves "
        f"{money(item.saving_usd_month)}/month (p95 cpu {cores(item.usage.cpu_p95)}, "
        f"p95 memory {memory(item.usage.memory_p95)})"
    )


def idle_line(item: IdleResource) -> str:
    cost = f", {money(item.monthly_cost_usd)}/month" if item.monthly_cost_usd > 0 else ""
    since = f" since {item.since:%d %b}" if item.since is not None else ""
    detail = f": {item.detail}" if item.detail else ""
    return f"{item.namespace}/{item.name} ({IDLE_KINDS[item.kind]}{since}){detail}{cost}"


def savings(report: CapacityReport) -> list[Rightsizing]:
    """Over-provisioned workloads, biggest monthly saving first."""
    return sorted(
        (r for r in report.rightsizing if r.saving_usd_month > 0),
        key=lambda r: -r.saving_usd_month,
    )


def undersized(report: CapacityReport) -> list[Rightsizing]:
    return [r for r in report.rightsizing if r.saving_usd_month < 0]


def soonest(report: CapacityReport) -> list[Exhaustion]:
    """Exhaustions, soonest first (those without a likely date after, by earliest)."""
    return sorted(
        report.exhaustions,
        key=lambda e: (e.days_likely is None, e.days_likely or 0.0, e.days_earliest),
    )


def rightsizing_total(report: CapacityReport) -> float:
    """What rightsizing the over-provisioned workloads saves per month."""
    return sum(r.saving_usd_month for r in savings(report))


def idle_total(report: CapacityReport) -> float:
    """What the idle and left-behind resources cost per month (saved by removing them)."""
    return sum(i.monthly_cost_usd for i in report.idle)


def savings_text(report: CapacityReport) -> str:
    """The one savings figure and what it is made of: `$32.32/month ($23.02 rightsizing +
    $9.30 idle)`, so the rightsizing total beside it is not read as a contradiction."""
    rightsizing, idle = rightsizing_total(report), idle_total(report)
    parts = [f"{money(rightsizing)} rightsizing"] if rightsizing else []
    parts += [f"{money(idle)} idle"] if idle else []
    split = f" ({' + '.join(parts)})" if len(parts) > 1 else ""
    return f"{money(rightsizing + idle)}/month{split}"


def headline(report: CapacityReport) -> str:
    """The one-line summary (notification text, tool result header)."""
    scope = f"namespace {report.namespace}" if report.namespace else "all namespaces"
    count = len(report.exhaustions)
    parts = [f"{count} {'resource runs' if count == 1 else 'resources run'} out within the horizon"]
    first = soonest(report)
    if first and first[0].days_likely is not None:
        parts[0] += f" (first: {resource_name(first[0].resource)} in ~{days(first[0].days_likely)})"
    parts.append(
        f"{len(savings(report))} over-provisioned workloads saving "
        f"{money(rightsizing_total(report))}/month by rightsizing"
    )
    idle = f"{len(report.idle)} idle or left-behind resources"
    if idle_total(report) > 0:
        idle += f" costing {money(idle_total(report))}/month"
    parts.append(idle)
    return f"Capacity ({scope}): " + "; ".join(parts) + "."
