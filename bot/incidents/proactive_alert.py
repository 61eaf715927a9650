"""A forecast exhaustion as an Alertmanager alert, and the action that prevents it (pure)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from bot.capacity.models import Exhaustion, Forecast, Metric, Scope
from bot.incidents.alertmanager import label_fingerprint
from bot.investigation.patterns.observe import FORECAST_SOURCE
from bot.settings import CapacitySettings

ALERTNAME = "CapacityExhaustionForecast"
GIB = 1024.0**3
SIZE_STEP_GIB = 10  # proposed sizes are whole multiples, so scans agree on the same proposal
HEADROOM = 1.2


def is_due(exhaustion: Exhaustion, settings: CapacitySettings) -> bool:
    """Inside the warn horizon and at least as likely as the configured confidence."""
    days = exhaustion.days_likely
    return (
        days is not None
        and days <= settings.warn_within_days
        and exhaustion.probability >= settings.confidence
    )


def alert_labels(exhaustion: Exhaustion) -> dict[str, str]:
    ref = exhaustion.resource
    labels = {"alertname": ALERTNAME, "resource": ref.metric.value, "source": FORECAST_SOURCE}
    if ref.scope is Scope.VOLUME:
        labels |= {"namespace": ref.namespace or "", "persistentvolumeclaim": ref.name}
    elif ref.scope is Scope.WORKLOAD:
        labels |= {"namespace": ref.namespace or "", "deployment": ref.name}
        if ref.detail:
            labels["container"] = ref.detail
    else:
        labels |= {"node": ref.name}
        if ref.detail:
            labels["mountpoint"] = ref.detail
    return labels


def summary(exhaustion: Exhaustion) -> str:
    """`prod/postgres-data runs out in 4.8 days (80 % interval 3.9-6.1 d)`."""
    ref, forecast = exhaustion.resource, exhaustion.forecast
    where = f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name
    what = {Metric.DISK: " disk", Metric.MEMORY: " memory", Metric.CPU: " CPU"}.get(ref.metric, "")
    likely = exhaustion.days_likely if exhaustion.days_likely is not None else math.inf
    latest = _latest_days(forecast)
    late = "beyond the horizon" if latest is None else f"{latest:.1f}"
    headline = (
        f"{where}{what} runs out in {likely:.1f} days ({forecast.interval * 100:.0f} % interval "
        f"{exhaustion.days_earliest:.1f}\u2013{late} d)"
    )
    return f"{headline}. {node_disk_advice(forecast)}" if ref.scope is Scope.NODE else headline


def growth_per_day(forecast: Forecast, days: float = 7.0) -> float:
    """The mean forecast's growth per day over its first `days` (the trend, not the cycle)."""
    if not forecast.points:
        return 0.0
    start = forecast.history[-1][0] if forecast.history else forecast.points[0].at
    ahead = [p for p in forecast.points if p.at - start <= timedelta(days=days)] or [
        forecast.points[0]
    ]
    span = (ahead[-1].at - start) / timedelta(days=1)
    return (ahead[-1].mean - forecast.used_now) / span if span > 0 else 0.0


def node_disk_advice(forecast: Forecast) -> str:
    """What to do about a node's filling disk: no cluster action fits and the largest
    directories cannot be known from node-exporter, so say where, how much, how fast."""
    ref = forecast.resource
    mount = ref.detail or "/"
    free = f"{_gib(forecast.capacity - forecast.used_now)} free of " if forecast.capacity else ""
    size = _gib(forecast.capacity) if forecast.capacity else "an unknown size"
    return (
        f"{mount} on node {ref.name} has {free}{size}, growing "
        f"{growth_per_day(forecast) / GIB:.1f} GiB/day. No action is proposed (none fits a node "
        f"disk): on {ref.name}, find what grows under {mount} (`du -xh -d 2 {mount}`; usually "
        "container images, logs or emptyDir volumes), prune images (`crictl rmi --prune`) or "
        "vacuum logs, or grow the node's disk / drain and replace the node."
    )


def _gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"


def webhook(exhaustion: Exhaustion, severity: str, starts_at: datetime) -> dict[str, Any]:
    """Alertmanager webhook version 4 with one firing alert; the fingerprint depends on the
    labels only, so every scan of the same resource is the same alert."""
    labels = alert_labels(exhaustion) | {"severity": severity}
    identity = alert_labels(exhaustion)
    forecast = exhaustion.forecast
    annotations = {
        "summary": summary(exhaustion),
        "description": (
            f"Forecast by {forecast.method} on {forecast.history_days:.0f} days of history: "
            f"{_amount(forecast, forecast.used_now)} used of {_amount(forecast, forecast.capacity)}"
            f"; probability to run out within the warn horizon {exhaustion.probability:.0%}."
        ),
        "days_likely": f"{exhaustion.days_likely:.2f}" if exhaustion.days_likely else "",
        "days_earliest": f"{exhaustion.days_earliest:.2f}",
    }
    group = {"alertname": ALERTNAME, **{k: v for k, v in identity.items() if k != "alertname"}}
    key = "{}:{" + ",".join(f'{k}="{v}"' for k, v in sorted(group.items())) + "}"
    return {
        "version": "4",
        "receiver": "opsbot-forecast",
        "status": "firing",
        "groupKey": key,
        "groupLabels": group,
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": annotations,
                "startsAt": starts_at.isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": label_fingerprint(identity),
            }
        ],
    }


def fingerprint(exhaustion: Exhaustion) -> str:
    return label_fingerprint(alert_labels(exhaustion))


def expanded_size(exhaustion: Exhaustion, settings: CapacitySettings) -> str | None:
    """A volume size that holds the upper forecast over the warn horizon plus 20 %,
    rounded up to 10 GiB steps; None when the forecast has no capacity."""
    forecast = exhaustion.forecast
    if forecast.capacity is None:
        return None
    need = max(forecast.capacity, _upper_at(forecast, settings.warn_within_days)) * HEADROOM
    steps = math.ceil(need / GIB / SIZE_STEP_GIB)
    return f"{max(steps * SIZE_STEP_GIB, math.ceil(forecast.capacity / GIB) + 1)}Gi"


def scaled_replicas(exhaustion: Exhaustion, settings: CapacitySettings, replicas: int) -> int:
    """Replicas that keep per-pod use at 80 % of the limit over the warn horizon."""
    forecast = exhaustion.forecast
    if not forecast.capacity or replicas <= 0:
        return replicas + 1
    ratio = _upper_at(forecast, settings.warn_within_days) / (forecast.capacity * 0.8)
    return max(replicas + 1, math.ceil(replicas * ratio))


def _upper_at(forecast: Forecast, days: float) -> float:
    start = forecast.points[0].at if forecast.points else None
    best = forecast.used_now
    for point in forecast.points:
        if start is not None and point.at - start > timedelta(days=days):
            break
        best = max(best, point.upper)
    return best


def _latest_days(forecast: Forecast) -> float | None:
    """When the lower interval bound crosses capacity (the latest likely exhaustion)."""
    if forecast.capacity is None or not forecast.points:
        return None
    start = forecast.history[-1][0] if forecast.history else forecast.points[0].at
    for point in forecast.points:
        if point.lower >= forecast.capacity:
            return (point.at - start) / timedelta(days=1)
    return None


def _amount(forecast: Forecast, value: float | None) -> str:
    if value is None:
        return "no limit"
    if forecast.resource.metric is Metric.CPU:
        return f"{value:.2f} cores"
    return f"{value / GIB:.1f} GiB"
