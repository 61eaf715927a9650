"""Who brought the extra load: a database's clients by their own activity, a service's
callers by the calls per request they send (bot.investigation.patterns.load_shifts)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.investigation.patterns.load_shifts import busiest_client, database_clients, fan_out_rises
from bot.investigation.patterns.observe import matching_client
from bot.investigation.service_graph import ServiceGraph
from tools.k8s.service_clients import ServiceClient
from tools.metrics.query_tools import RangeQueryData
from tools.metrics.series import SeriesSummary

START = 1_800_000_000.0
STEP = 60.0
POINTS = 120
ONSET = 90  # index of the first point after the change


def _series(labels: dict[str, str], before: float, after: float) -> SeriesSummary:
    values = [
        (START + i * STEP, (before if i < ONSET else after) * (1 + 0.03 * ((i * 7) % 5 - 2)))
        for i in range(POINTS)
    ]
    return SeriesSummary(labels=labels, points=POINTS, values=values)


def _data(*series: SeriesSummary) -> RangeQueryData:
    return RangeQueryData(
        query="q",
        start=datetime.fromtimestamp(START, UTC),
        end=datetime.fromtimestamp(START + POINTS * STEP, UTC),
        step_seconds=STEP,
        total_series=len(series),
        series=list(series),
    )


def _client(user: str, app: str) -> dict[str, str]:
    return {
        "namespace": "data",
        "service": "db",
        "datname": "main",
        "usename": user,
        "application_name": app,
    }


def test_the_client_whose_own_transactions_grew_far_beyond_the_others_is_the_hog() -> None:
    sessions = _data(
        _series(_client("orders", "orders-api"), 4, 9),
        _series(_client("etl", "nightly-sync"), 1, 6),
    )
    longest = _data(
        _series(_client("orders", "orders-api"), 0.1, 0.25),
        _series(_client("etl", "nightly-sync"), 2, 50),
    )
    hog = busiest_client(database_clients(sessions, longest))
    assert hog is not None
    assert (hog.usename, hog.application_name) == ("etl", "nightly-sync")
    assert hog.longest_tx.after > 20 * hog.longest_tx.before


def test_when_every_client_slows_alike_no_client_is_blamed() -> None:
    sessions = _data(
        _series(_client("orders", "orders-api"), 4, 40),
        _series(_client("stock", "stock-api"), 3, 30),
    )
    longest = _data(
        _series(_client("orders", "orders-api"), 0.1, 1.0),
        _series(_client("stock", "stock-api"), 0.1, 1.1),
    )
    assert busiest_client(database_clients(sessions, longest)) is None


def test_a_hog_is_joined_to_its_workload_by_application_name_else_by_its_only_user() -> None:
    sessions = _data(_series(_client("billing", "JDBC driver"), 1, 6))
    hog = busiest_client(database_clients(sessions, None))
    assert hog is not None
    clients = [
        ServiceClient(
            namespace="shop", name="orders", container="app", env=["DB_URL"], user="orders"
        ),
        ServiceClient(
            namespace="fin", name="export", container="w", env=["PGHOST"], user="billing"
        ),
    ]
    found = matching_client(hog, clients)
    assert found is not None
    assert found.name == "export"


def test_calls_into_a_service_per_caller_request_rising_is_a_fan_out_rise() -> None:
    rates = _data(
        _series({"service": "edge"}, 80, 84),
        _series({"service": "api"}, 25, 90),
        _series({"service": "store"}, 40, 42),
    )
    graph = ServiceGraph(frozenset({("edge", "api"), ("api", "store")}))
    rises = fan_out_rises(rates, graph)
    assert [r.callee for r in rises] == ["api"]
    assert rises[0].callers == ("edge",)
    assert rises[0].growth > 3


def test_more_users_raise_every_rate_alike_and_no_fan_out_rise() -> None:
    rates = _data(_series({"service": "edge"}, 80, 240), _series({"service": "api"}, 25, 75))
    graph = ServiceGraph(frozenset({("edge", "api")}))
    assert fan_out_rises(rates, graph) == []
