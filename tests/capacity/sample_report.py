"""A capacity report as the analyses would produce it for the shop cluster: the orders
database volume fills in ~5 days, Prometheus' volume is flat, payments is over-provisioned,
staging/legacy-report is idle and a volume is left behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.capacity.models import (
    CapacityReport,
    ContainerUsage,
    Exhaustion,
    Forecast,
    ForecastPoint,
    IdleKind,
    IdleResource,
    Metric,
    ResourceRef,
    Rightsizing,
    Scope,
)

GIB = 1024.0**3
MIB = 1024.0**2
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def volume_forecast(
    name: str,
    namespace: str,
    capacity: float,
    used: float,
    per_day: float,
    spread: float,
    horizon_days: int = 30,
) -> Forecast:
    history = tuple(
        (NOW - timedelta(hours=h), used - per_day * h / 24) for h in range(28 * 24, -1, -6)
    )
    points = tuple(
        ForecastPoint(
            NOW + timedelta(hours=h),
            used + per_day * h / 24,
            used + (per_day - spread) * h / 24,
            used + (per_day + spread) * h / 24,
        )
        for h in range(6, horizon_days * 24 + 1, 6)
    )
    return Forecast(
        resource=ResourceRef(Scope.VOLUME, Metric.VOLUME, name, namespace),
        capacity=capacity,
        used_now=used,
        history=history,
        points=points,
        method="holt-winters(additive trend, daily season)",
        interval=0.8,
        history_days=28.0,
    )


def usage(
    namespace: str, workload: str, cpu: float, mem: float, cpu_p95: float, mem_p95: float
) -> ContainerUsage:
    return ContainerUsage(
        namespace=namespace,
        workload=workload,
        container="app",
        replicas=3,
        cpu_request=cpu,
        cpu_limit=None,
        memory_request=mem,
        memory_limit=mem,
        cpu_p95=cpu_p95,
        cpu_max=cpu_p95 * 1.3,
        memory_p95=mem_p95,
        memory_max=mem_p95 * 1.2,
        history_days=14.0,
    )


def shop_report(namespace: str | None = None, skipped: tuple[str, ...] = ()) -> CapacityReport:
    postgres = volume_forecast("postgres-data", "prod", 50 * GIB, 44 * GIB, 1.2 * GIB, 0.2 * GIB)
    prometheus = volume_forecast("prometheus-data", "monitoring", 100 * GIB, 62 * GIB, 0.0, 0.1)
    archive = volume_forecast(
        "orders-archive", "prod", 200 * GIB, 170 * GIB, 0.5 * GIB, 0.1 * GIB, horizon_days=90
    )
    exhaustion = Exhaustion(
        postgres, days_likely=5.0, days_earliest=4.3, probability=0.97, severity="warning"
    )
    archive_full = Exhaustion(
        archive, days_likely=60.0, days_earliest=50.0, probability=0.7, severity="info"
    )
    payments = Rightsizing(
        usage=usage("prod", "payments", 2.0, 4 * GIB, 0.25, 500 * MIB),
        cpu_request=0.3,
        cpu_limit=None,
        memory_request=600 * MIB,
        memory_limit=900 * MIB,
        saving_cores=5.1,
        saving_gib=10.2,
        saving_usd_month=148.92,
        reason="p95 cpu 0.25 cores against a request of 2 cores",
    )
    checkout = Rightsizing(
        usage=usage("prod", "checkout", 1.0, 2 * GIB, 0.4, 1 * GIB),
        cpu_request=0.5,
        cpu_limit=None,
        memory_request=1.2 * GIB,
        memory_limit=1.8 * GIB,
        saving_cores=1.5,
        saving_gib=2.4,
        saving_usd_month=41.97,
        reason="p95 cpu 0.4 cores against a request of 1 core",
    )
    idle = (
        IdleResource(
            IdleKind.IDLE_WORKLOAD,
            "staging",
            "legacy-report",
            NOW - timedelta(days=21),
            "no CPU above 0.001 cores for 21 days",
            22.5,
        ),
        IdleResource(
            IdleKind.UNATTACHED_VOLUME,
            "staging",
            "old-exports",
            None,
            "20 GiB bound to no pod",
            2.0,
        ),
    )
    report = CapacityReport(
        generated_at=NOW,
        namespace=None,
        forecasts=(postgres, prometheus, archive),
        exhaustions=(archive_full, exhaustion),
        rightsizing=(payments, checkout),
        idle=idle,
        skipped=skipped,
    )
    if namespace is None:
        return report
    return CapacityReport(
        generated_at=NOW,
        namespace=namespace,
        forecasts=tuple(f for f in report.forecasts if f.resource.namespace == namespace),
        exhaustions=tuple(e for e in report.exhaustions if e.resource.namespace == namespace),
        rightsizing=tuple(r for r in report.rightsizing if r.usage.namespace == namespace),
        idle=tuple(i for i in report.idle if i.namespace == namespace),
        skipped=skipped,
    )
