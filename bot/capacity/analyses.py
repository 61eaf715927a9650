"""The one import point of the three capacity analyses, adapted to `report.Analysis`.

Each adapter turns one analysis module's result into a `report.Part`; a missing backend is a
`skipped` line, not an error."""

from __future__ import annotations

from datetime import datetime

from bot.capacity.forecasts import forecast_all
from bot.capacity.idle import find_idle
from bot.capacity.report import Analysis, Part, Sources
from bot.capacity.rightsizing import rightsize_all
from bot.settings import CapacitySettings

NO_PROMETHEUS = "no Prometheus configured (OPSBOT_PROMETHEUS_URL)"
NO_KUBERNETES = "no Kubernetes API configured (OPSBOT_KUBECONFIG / OPSBOT_KUBE_API_URL)"


def forecasts(
    sources: Sources, settings: CapacitySettings, now: datetime, namespace: str | None
) -> Part:
    if sources.prometheus is None:
        return Part(skipped=(f"forecasts: {NO_PROMETHEUS}",))
    scan = forecast_all(sources.prometheus, settings, now, namespace=namespace)
    return Part(
        forecasts=tuple(scan.forecasts),
        exhaustions=tuple(scan.exhaustions),
        skipped=tuple(f"forecast {s}" for s in scan.skipped),
    )


def rightsizing(
    sources: Sources, settings: CapacitySettings, now: datetime, namespace: str | None
) -> Part:
    if sources.prometheus is None:
        return Part(skipped=(f"rightsizing: {NO_PROMETHEUS}",))
    found, skipped = rightsize_all(sources.prometheus, settings, now, namespace=namespace)
    return Part(rightsizing=tuple(found), skipped=tuple(f"rightsizing {s}" for s in skipped))


def idle(
    sources: Sources, settings: CapacitySettings, now: datetime, namespace: str | None
) -> Part:
    if sources.prometheus is None:
        return Part(skipped=(f"idle resources: {NO_PROMETHEUS}",))
    if sources.kube is None:
        return Part(skipped=(f"idle resources: {NO_KUBERNETES}",))
    found = find_idle(sources.prometheus, sources.kube, settings, now, namespace=namespace)
    return Part(idle=tuple(found))


ANALYSES: tuple[tuple[str, Analysis], ...] = (
    ("forecasts", forecasts),
    ("rightsizing", rightsizing),
    ("idle resources", idle),
)
