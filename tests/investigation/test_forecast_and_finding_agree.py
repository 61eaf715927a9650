"""An incident opened by opsbot's own forecast and its finding give one estimate.

The title said "runs out in 5.3 days" while the finding said "full in about 97h": the
finding extrapolated the last hours of free space on its own. When the incident's alerts
include the forecast, the finding repeats the forecast's estimate instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.capacity.models import Metric, ResourceRef, Scope
from bot.incidents.proactive_alert import alert_labels, summary
from bot.investigation.agent.request import AlertContext, InvestigationRequest, Workflow
from bot.investigation.patterns.base import RuleContext
from bot.investigation.patterns.observe import Observations, forecast_summaries
from bot.investigation.patterns.rules_storage import disk_filling
from tests.capacity.test_capacity_scan_schedule_and_prevention import GIB, linear_forecast
from tools.metrics.query_tools import RangeQueryData
from tools.metrics.series import SeriesSummary

NOW = datetime(2026, 12, 2, 11, 0, tzinfo=UTC)


def filling_volume() -> Observations:
    """prod/postgres-data losing free space fast over the last six hours."""
    start = NOW - timedelta(hours=6)
    values = [
        ((start + timedelta(minutes=10 * i)).timestamp(), 0.30 - 0.005 * i) for i in range(37)
    ]
    series = SeriesSummary(
        labels={"namespace": "prod", "persistentvolumeclaim": "postgres-data"},
        points=len(values),
        first=values[0][1],
        last=values[-1][1],
        values=values,
    )
    obs = Observations(namespace="prod", service=None)
    obs.ranges["volume_free_ratio"] = RangeQueryData(
        query="kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes",
        start=start,
        end=NOW,
        step_seconds=600,
        total_series=1,
        series=[series],
    )
    return obs


def forecast_request() -> tuple[InvestigationRequest, str]:
    ref = ResourceRef(Scope.VOLUME, Metric.VOLUME, "postgres-data", "prod")
    exhaustion = linear_forecast(ref, 50 * GIB, 44 * GIB, 1.2 * GIB, NOW)
    said = summary(exhaustion)
    alert = AlertContext(
        name="CapacityExhaustionForecast",
        status="firing",
        starts_at=NOW,
        labels=alert_labels(exhaustion),
        annotations={"summary": said},
    )
    request = InvestigationRequest(Workflow.INCIDENT, "", NOW, incident_id=1, alerts=(alert,))
    return request, said


def test_the_finding_repeats_the_estimate_of_the_forecast_that_opened_the_incident() -> None:
    request, said = forecast_request()
    obs = filling_volume()
    obs.forecasts = forecast_summaries(request)
    found = disk_filling(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert said in found.summary  # "prod/postgres-data runs out in 5.0 days (80 % interval …)"
    assert "full in about" not in found.summary


def test_without_a_forecast_alert_the_finding_extrapolates_the_free_space_itself() -> None:
    obs = filling_volume()
    obs.forecasts = forecast_summaries(InvestigationRequest(Workflow.INCIDENT, "", NOW))
    found = disk_filling(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert "full in about" in found.summary
