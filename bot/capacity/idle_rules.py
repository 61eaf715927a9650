"""Which resources are idle, since when and what they cost: pure decisions on plain facts.

`bot.capacity.idle` gathers the facts (Kubernetes for what exists now, Prometheus for when
activity stopped); everything here is deterministic and needs no cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.capacity.models import IdleKind, IdleResource
from bot.settings import CapacitySettings

GIB = 1024.0**3
HOURS_PER_MONTH = 730.0  # 365 * 24 / 12, how cloud price sheets count a month
Points = Sequence[tuple[datetime, float]]


@dataclass(frozen=True)
class Requests:
    """What one replica asks for: the sum over its containers."""

    cpu_cores: float = 0.0
    memory_bytes: float = 0.0


@dataclass(frozen=True)
class WorkloadActivity:
    namespace: str
    name: str
    replicas: int
    requests: Requests
    cpu: Points  # cores of the deployment's busiest pod over the history
    traffic: Points | None  # requests per second of its service; None: it has no such series


@dataclass(frozen=True)
class ClaimState:
    namespace: str
    name: str
    size_bytes: float
    created: datetime | None
    mounted_by: tuple[str, ...]
    last_seen_mounted: datetime | None  # last kubelet volume stats sample (only while mounted)


@dataclass(frozen=True)
class ReplicaHistory:
    namespace: str
    name: str
    replicas: int  # spec.replicas now
    requests: Requests
    history: Points  # kube_deployment_spec_replicas over time (may be empty)
    last_change: datetime | None  # newest condition timestamp, or creation: the fallback


@dataclass(frozen=True)
class JobState:
    namespace: str
    name: str
    failed_at: datetime | None  # None: not failed
    reason: str | None = None


def monthly_compute_usd(requests: Requests, replicas: int, settings: CapacitySettings) -> float:
    hourly = (
        requests.cpu_cores * settings.cpu_core_hour_usd
        + requests.memory_bytes / GIB * settings.memory_gib_hour_usd
    )
    return round(hourly * replicas * HOURS_PER_MONTH, 2)


def monthly_storage_usd(size_bytes: float, settings: CapacitySettings) -> float:
    return round(size_bytes / GIB * settings.storage_gib_month_usd, 2)


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def last_above(points: Points, threshold: float) -> datetime | None:
    """The last instant the value was at or above `threshold`."""
    return max((at for at, value in points if value >= threshold), default=None)


def days(span: timedelta) -> float:
    return span.total_seconds() / 86400


def idle_since(activity: WorkloadActivity, threshold: float) -> datetime | None:
    """When activity stopped: the later of the last busy CPU sample and the last request;
    the first sample when it was never active in the history (None: no history at all)."""
    stops = [last_above(activity.cpu, threshold)]
    if activity.traffic is not None:
        stops.append(last_above(activity.traffic, 1e-9))
    known = [stop for stop in stops if stop is not None]
    if known:
        return max(known)
    samples = [at for at, _ in activity.cpu]
    return min(samples) if samples else None


def idle_workloads(
    workloads: Sequence[WorkloadActivity], settings: CapacitySettings, now: datetime
) -> list[IdleResource]:
    """Running workloads whose p95 CPU over the last `idle_days` is below `idle_cpu_cores`
    and that served no request in that time."""
    window_start = now - timedelta(days=settings.idle_days)
    found = []
    for workload in workloads:
        if workload.replicas <= 0 or not workload.cpu:
            continue
        recent = [value for at, value in workload.cpu if at >= window_start]
        busy = p95(recent)
        traffic = [v for at, v in workload.traffic or () if at >= window_start]
        if not recent or busy >= settings.idle_cpu_cores or any(v > 1e-9 for v in traffic):
            continue
        since = idle_since(workload, settings.idle_cpu_cores)
        if since is None or days(now - since) < settings.idle_days:
            continue
        what = "no requests" if workload.traffic is not None else "no request metrics"
        detail = (
            f"{workload.replicas} replica(s) idle for {days(now - since):.0f} days: p95 CPU "
            f"{busy * 1000:.1f}m cores over the last {settings.idle_days:g} days, {what}"
        )
        found.append(
            IdleResource(
                kind=IdleKind.IDLE_WORKLOAD,
                namespace=workload.namespace,
                name=workload.name,
                since=since,
                detail=detail,
                monthly_cost_usd=monthly_compute_usd(
                    workload.requests, workload.replicas, settings
                ),
            )
        )
    return found


def unattached_volumes(
    claims: Sequence[ClaimState], settings: CapacitySettings, now: datetime
) -> list[IdleResource]:
    """Claims no pod mounts, since they were last seen mounted (else since creation)."""
    found = []
    for claim in claims:
        if claim.mounted_by:
            continue
        since = claim.last_seen_mounted or claim.created
        when = (
            f"last mounted {days(now - claim.last_seen_mounted):.0f} days ago"
            if claim.last_seen_mounted
            else "not seen mounted in the metrics history"
        )
        detail = f"{claim.size_bytes / GIB:g} GiB claim no pod mounts ({when})"
        found.append(
            IdleResource(
                kind=IdleKind.UNATTACHED_VOLUME,
                namespace=claim.namespace,
                name=claim.name,
                since=since,
                detail=detail,
                monthly_cost_usd=monthly_storage_usd(claim.size_bytes, settings),
            )
        )
    return found


def zero_since(history: Points) -> datetime | None:
    """The first sample at 0 after the last sample above 0 (the first sample when always 0)."""
    ordered = sorted(history)
    if not ordered or ordered[-1][1] > 0:
        return None
    last_up = last_above(ordered, 0.5)
    return next((at for at, value in ordered if value <= 0 and (last_up is None or at > last_up)))


def scaled_to_zero(
    deployments: Sequence[ReplicaHistory], settings: CapacitySettings, now: datetime
) -> list[IdleResource]:
    """Deployments at 0 replicas for at least `scaled_to_zero_days`."""
    found = []
    for deployment in deployments:
        if deployment.replicas != 0:
            continue
        since = zero_since(deployment.history) if deployment.history else None
        source = "replica history"
        if since is None:
            since, source = deployment.last_change, "last status change"
        if since is None or days(now - since) < settings.scaled_to_zero_days:
            continue
        detail = f"0 replicas for {days(now - since):.0f} days (from its {source})"
        found.append(
            IdleResource(
                kind=IdleKind.SCALED_TO_ZERO,
                namespace=deployment.namespace,
                name=deployment.name,
                since=since,
                detail=detail,
            )
        )
    return found


def failed_jobs(
    jobs: Sequence[JobState], settings: CapacitySettings, now: datetime
) -> list[IdleResource]:
    """Jobs that failed at least `failed_job_days` ago and are still around."""
    found = []
    for job in jobs:
        if job.failed_at is None or days(now - job.failed_at) < settings.failed_job_days:
            continue
        reason = f" ({job.reason})" if job.reason else ""
        detail = f"failed {days(now - job.failed_at):.1f} days ago{reason}"
        found.append(
            IdleResource(
                kind=IdleKind.FAILED_JOB,
                namespace=job.namespace,
                name=job.name,
                since=job.failed_at,
                detail=detail,
            )
        )
    return found
