"""The three capacity analyses behind one signature (`Analysis`), and what they share.

Each adapter turns one analysis module's result into a `Part` of the report; a missing
backend is a `skipped` line, not an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kubernetes import client

from bot.capacity.forecasts import forecast_all
from bot.capacity.idle import find_idle
from bot.capacity.models import Exhaustion as ExhaustionResult
from bot.capacity.models import Forecast, IdleResource, Rightsizing, Skip
from bot.capacity.rightsizing import rightsize_all
from bot.settings import CapacitySettings
from tools.metrics.api import PrometheusApi
from tools.metrics.frames import RangeFrames


@dataclass
class Sources:
    """The backends the analyses read; None when not configured."""

    prometheus: PrometheusApi | None = None
    frames: RangeFrames | None = None  # the same Prometheus, for histories as pandas frames
    kube: client.ApiClient | None = None


@dataclass(frozen=True)
class Part:
    """What one analysis contributes to the report."""

    forecasts: tuple[Forecast, ...] = ()
    exhaustions: tuple[ExhaustionResult, ...] = ()
    rightsizing: tuple[Rightsizing, ...] = ()
    idle: tuple[IdleResource, ...] = ()
    skipped: tuple[Skip, ...] = ()


Analysis = Callable[[Sources, CapacitySettings, datetime, str | None], Part]


@dataclass(frozen=True)
class Analyses:
    """The three analyses by name (tests may pass their own)."""

    parts: tuple[tuple[str, Analysis], ...] = field(default_factory=tuple)


def default_analyses() -> Analyses:
    """Forecasts, rightsizing and idle resources, as every report runs them."""
    return Analyses(ANALYSES)


NO_PROMETHEUS = "no Prometheus configured (OPSBOT_PROMETHEUS_URL)"
NO_KUBERNETES = "no Kubernetes API configured (OPSBOT_KUBECONFIG / OPSBOT_KUBE_API_URL)"


def forecasts(
    sources: Sources, settings: CapacitySettings, now: datetime, namespace: str | None
) -> Part:
    if sources.prometheus is None or sources.frames is None:
        return Part(skipped=(Skip(f"forecasts: {NO_PROMETHEUS}"),))
    scan = forecast_all(sources.prometheus, sources.frames, settings, now, namespace=namespace)
    return Part(
        forecasts=tuple(scan.forecasts),
        exhaustions=tuple(scan.exhaustions),
        skipped=tuple(Skip(f"forecast {s.text}", s.workload) for s in scan.skipped),
    )


def rightsizing(
    sources: Sources, settings: CapacitySettings, now: datetime, namespace: str | None
) -> Part:
    if sources.prometheus is None:
        return Part(skipped=(Skip(f"rightsizing: {NO_PROMETHEUS}"),))
    found, skipped = rightsize_all(sources.prometheus, settings, now, namespace=namespace)
    return Part(
        rightsizing=tuple(found),
        skipped=tuple(Skip(f"rightsizing {s.text}", s.workload) for s in skipped),
    )


def idle(
    sources: Sources, settings: CapacitySettings, now: datetime, namespace: str | None
) -> Part:
    if sources.prometheus is None:
        return Part(skipped=(Skip(f"idle resources: {NO_PROMETHEUS}"),))
    if sources.kube is None:
        return Part(skipped=(Skip(f"idle resources: {NO_KUBERNETES}"),))
    found = find_idle(sources.prometheus, sources.kube, settings, now, namespace=namespace)
    return Part(idle=tuple(found))


ANALYSES: tuple[tuple[str, Analysis], ...] = (
    ("forecasts", forecasts),
    ("rightsizing", rightsizing),
    ("idle resources", idle),
)
