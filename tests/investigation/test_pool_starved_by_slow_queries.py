"""A connection pool exhausted by slow queries is not a leak: when the database's slow-
statement log (PostgreSQL, MySQL or MongoDB wording) attributes long statements to the
service and they began with its rollout, the finding names the mechanism and the statement
and proposes a rollback, never a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.investigation.agent.finding import MetricChange
from bot.investigation.change_timeline import ChangeEvent
from bot.investigation.patterns.base import RuleContext
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.rules_resources import db_pool
from bot.investigation.patterns.slow_statements import attributed_to, slow_statement
from bot.investigation.recorded import LogRecord, RecordedPack
from bot.investigation.window_reader import Windows
from policies import ActionKind
from tools.k8s.deployments import DeploymentData
from tools.logs.aggregation_tools import MessageGroup, TopErrorsData
from tools.metrics.query_tools import RangeQueryData

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
RELEASED = NOW - timedelta(minutes=18)
HIKARI = "HikariPool-1 - Connection is not available, request timed out after 30000ms"
QUERY = "SELECT id FROM payments WHERE card_fingerprint = $1"


@pytest.mark.parametrize(
    ("line", "ms", "client"),
    [
        (
            f"duration: 2841.377 ms  execute <unnamed>: {QUERY}  user=payments "
            "application_name=PostgreSQL JDBC Driver",
            2841.377,
            "payments",
        ),
        (
            f"2026-12-03 13:50:01 UTC [812] payments@shop LOG:  duration: 3107.9 ms  statement: "
            f"{QUERY}",
            3107.9,
            "payments",
        ),
        (
            f"user=svc_pay,db=shop,app=payments LOG: duration: 1500 ms statement: {QUERY}",
            1500.0,
            "payments",
        ),
        (
            "# User@Host: payments[payments] @ 10.0.0.5 [] # Query_time: 2.84  Lock_time: 0.0 "
            f"{QUERY}",
            2840.0,
            "payments",
        ),
        (
            '{"msg":"Slow query","attr":{"appName":"payments","durationMillis":2900,'
            '"command":{"find":"payments"}}}',
            2900.0,
            "payments",
        ),
    ],
)
def test_a_slow_statement_is_read_with_its_client_in_each_databases_wording(
    line: str, ms: float, client: str
) -> None:
    found = slow_statement(line)
    assert found is not None
    assert found.ms == pytest.approx(ms)
    assert attributed_to(found, {client})


@pytest.mark.parametrize(
    "line",
    [
        f"duration: 12.5 ms  statement: {QUERY}  user=payments",  # fast
        f"duration: 2841.377 ms  statement: {QUERY}",  # names no client
        "checkpoint complete: wrote 120 buffers (0.7%); sync files=12, longest=0.010 s",
    ],
)
def test_a_fast_statement_one_without_a_client_or_another_line_is_not_attributed(
    line: str,
) -> None:
    found = slow_statement(line)
    assert found is None or not attributed_to(found, {"payments"})


def test_a_statement_of_another_client_is_not_the_services() -> None:
    found = slow_statement(f"duration: 2841 ms  statement: {QUERY}  user=payments_sync")
    assert found is not None
    assert not attributed_to(found, {"payments"})


def _db_line(stamp: float, user: str) -> LogRecord:
    return LogRecord(
        stamp,
        "postgres",
        "postgres-0",
        "LOG",
        f"duration: 2841.377 ms  execute <unnamed>: {QUERY}  user={user} application_name=x",
    )


def observed(
    *, user: str = "payments", before: bool = False, released: bool = True
) -> Observations:
    """payments' pool errors; the database's slow statements since the release (and before
    it when `before`); the windows start 30 minutes before the alert."""
    start, onset, end = (
        (NOW - timedelta(minutes=43)).timestamp(),
        (NOW - timedelta(minutes=13)).timestamp(),
        NOW.timestamp(),
    )
    split = RELEASED.timestamp()
    logs = [_db_line(split + i * 6, user) for i in range(100)]
    if before:
        logs += [_db_line(start + i * 6, user) for i in range(int((split - start) / 6))]
    pack = RecordedPack("live", "test", (onset, end), (start, onset - 1e-3), logs=logs)
    obs = Observations(namespace="prod", service="payments")
    group = MessageGroup(
        message=HIKARI, count=99, services={"payments": 99}, first_seen=None, last_seen=None
    )
    obs.top_errors = TopErrorsData(total_errors=99, groups=[group], other_count=0)
    obs.windows = Windows(pack)
    obs.deployment = DeploymentData(
        namespace="prod",
        name="payments",
        revision=3,
        desired=2,
        updated=2,
        ready=2,
        available=2,
        unavailable=0,
        strategy="RollingUpdate",
        paused=False,
        conditions=[],
        revisions=[],
    )
    if released:
        image = "registry.example.com/shop/payments:3.4.2"
        obs.timeline = [ChangeEvent("prod", "payments", 3, RELEASED, f"image -> {image}", (image,))]
    return obs


CTX = RuleContext(NOW, 1, ())


def test_slow_statements_that_began_with_the_release_starve_the_pool_and_get_a_rollback() -> None:
    found = db_pool(observed(), CTX)
    assert found is not None
    assert found.rule == "db-pool-slow-queries"
    assert "slow queries hold every connection of the pool" in found.root_cause.lower()
    assert "card_fingerprint" in found.summary
    assert "3.4.2" in found.root_cause
    ((proposal,),) = [found.actions]
    assert proposal.kind is ActionKind.ROLLBACK_DEPLOYMENT
    assert found.confidence <= 0.85


def test_slow_statements_already_there_before_the_release_do_not_claim_it_began_them() -> None:
    found = db_pool(observed(before=True), CTX)
    assert found is not None
    assert found.rule == "db-pool-slow-queries"
    assert found.confidence < 0.85
    assert all(p.kind is not ActionKind.RESTART_DEPLOYMENT for p in found.actions)


def test_slow_statements_without_a_release_name_the_query_and_never_restart() -> None:
    found = db_pool(observed(released=False), CTX)
    assert found is not None
    assert found.rule == "db-pool-slow-queries"
    assert found.actions == []
    assert any("restart" in r.lower() and "not" in r.lower() for r in found.recommendations)


def test_without_statements_of_the_service_the_pool_is_read_as_before() -> None:
    found = db_pool(observed(user="reporting"), CTX)
    assert found is not None
    assert found.rule == "db-connection-pool"


def test_a_latency_rise_that_began_with_the_rollout_is_named_beside_the_statements() -> None:
    obs = observed()
    query = "histogram_quantile(0.95, ...payments...)"
    obs.ranges["latency_p95"] = RangeQueryData(
        query=query, start=NOW, end=NOW, step_seconds=60, total_series=1, series=[]
    )
    rise = MetricChange(
        query=query,
        series="latency_p95",
        at=RELEASED + timedelta(minutes=2),
        before=0.2,
        after=5.4,
        score=9.0,
    )
    found = db_pool(obs, RuleContext(NOW, 1, (rise,)))
    assert found is not None
    assert "p95 latency rose with the rollout too, from 0.2 to 5.4 s" in found.root_cause
