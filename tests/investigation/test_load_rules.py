"""caller_load and database_hog: the load on a shared dependency is blamed on the workload
whose rollout brought it, not on the dependency that alerts or a coincident deploy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.investigation.change_timeline import ChangeEvent
from bot.investigation.patterns.base import RuleContext
from bot.investigation.patterns.load_shifts import DatabaseClient, Level
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.rules_load import caller_load, database_hog
from bot.investigation.service_graph import ServiceGraph
from policies import ActionKind
from tools.k8s.service_clients import ServiceClient
from tools.metrics.query_tools import RangeQueryData
from tools.metrics.series import SeriesSummary

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
STEP = 60.0
POINTS = 120
ONSET = 100


def _rate(service: str, before: float, after: float) -> SeriesSummary:
    start = NOW.timestamp() - POINTS * STEP
    values = [
        (start + i * STEP, (before if i < ONSET else after) * (1 + 0.02 * ((i * 3) % 5 - 2)))
        for i in range(POINTS)
    ]
    return SeriesSummary(labels={"service": service}, points=POINTS, values=values)


def _release(namespace: str, service: str, ago: timedelta) -> ChangeEvent:
    image = f"registry.example.com/{service}:2.0.0"
    return ChangeEvent(namespace, service, 4, NOW - ago, f"image -> {image}", (image,))


def _storm(*timeline: ChangeEvent) -> Observations:
    """api's calls into store quadruple while the traffic into api stays level."""
    obs = Observations(namespace="prod", service="store", alerted=["store"])
    obs.graph = ServiceGraph(frozenset({("edge", "api"), ("api", "store")}))
    obs.ranges["request_rate_by_service"] = RangeQueryData(
        query="sum by (service) (rate(http_requests_total[5m]))",
        start=NOW - timedelta(hours=2),
        end=NOW,
        step_seconds=STEP,
        total_series=3,
        series=[_rate("edge", 90, 92), _rate("api", 30, 31), _rate("store", 30, 120)],
    )
    obs.timeline = list(timeline)
    return obs


def test_a_callers_release_that_multiplies_its_calls_is_rolled_back_not_the_callee() -> None:
    obs = _storm(_release("prod", "api", timedelta(minutes=22)))
    found = caller_load(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert found.summary.startswith("api 2.0.0 drives the load on store")
    assert [(a.kind, a.target.name) for a in found.actions] == [
        (ActionKind.ROLLBACK_DEPLOYMENT, "api")
    ]


def test_without_a_callers_rollout_or_when_the_callee_itself_changed_no_caller_is_blamed() -> None:
    assert caller_load(_storm(), RuleContext(NOW, 1, ())) is None
    both = _storm(
        _release("prod", "api", timedelta(minutes=22)),
        _release("prod", "store", timedelta(minutes=21)),
    )
    assert caller_load(both, RuleContext(NOW, 1, ())) is None


def _hogged(*timeline: ChangeEvent) -> Observations:
    obs = Observations(namespace="prod", service="orders", alerted=["orders"])
    obs.db_hog = DatabaseClient(
        database_namespace="prod",
        database_service="db",
        datname="main",
        usename="etl",
        application_name="nightly-sync",
        sessions=Level(1, 6, NOW - timedelta(minutes=20)),
        longest_tx=Level(2, 48, NOW - timedelta(minutes=20)),
    )
    obs.db_hog_workload = ServiceClient(
        namespace="data", name="nightly-sync", container="sync", env=["DATABASE_URL"], user="etl"
    )
    obs.timeline = list(timeline)
    return obs


def test_the_database_client_released_before_its_load_is_rolled_back_in_its_namespace() -> None:
    obs = _hogged(
        _release("data", "nightly-sync", timedelta(minutes=23)),
        _release("prod", "orders", timedelta(minutes=23)),
    )
    found = database_hog(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert "nightly-sync 2.0.0 (data) hogs the database db" in found.summary
    assert [(a.target.namespace, a.target.name) for a in found.actions] == [
        ("data", "nightly-sync")
    ]


def test_a_hog_without_a_rollout_is_named_with_no_action_and_less_confidence() -> None:
    found = database_hog(_hogged(), RuleContext(NOW, 1, ()))
    assert found is not None
    assert found.actions == []
    assert found.confidence < 0.6
    assert "data/nightly-sync" in found.summary
