"""The dependency graph, the origin of errors and latency, the change timeline and the
ranking of suspects: pure functions over what the tools return."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.investigation.change_timeline import change_events, changes_near, quantity
from bot.investigation.patterns.focus import blast_radius, rank_suspects
from bot.investigation.service_graph import (
    error_origins,
    graph_from_traces,
    latency_origins,
)
from tools.k8s.deployments import DeploymentData, RevisionInfo
from tools.k8s.rollout import TemplateChange
from tools.logs.aggregation_tools import MessageGroup
from tools.traces.summary import SpanSummary, TraceSummary, waited_peer

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def span(
    sid: str,
    parent: str | None,
    service: str,
    depth: int,
    self_ms: float = 1.0,
    *,
    error: bool = False,
) -> SpanSummary:
    return SpanSummary(
        span_id=sid,
        parent_id=parent,
        service=service,
        operation="op",
        start=NOW,
        duration_ms=self_ms,
        self_ms=self_ms,
        depth=depth,
        error=error,
    )


def trace(spans: list[SpanSummary], duration: float = 100.0) -> TraceSummary:
    return TraceSummary(
        trace_id=str(id(spans)),
        root_service=spans[0].service,
        root_operation="op",
        start=NOW,
        duration_ms=duration,
        span_count=len(spans),
        services=sorted({s.service for s in spans}),
        error_count=sum(s.error for s in spans),
        slowest=sorted(spans, key=lambda s: -s.self_ms),
        errors=sorted([s for s in spans if s.error], key=lambda s: -s.depth),
    )


FAILING = trace(
    [
        span("a", None, "frontend", 0, error=True),
        span("b", "a", "checkout", 1, error=True),
        span("c", "b", "payments", 2, error=True),
        span("d", "b", "inventory", 2),
    ]
)
SLOW = trace(
    [
        span("a", None, "frontend", 0),
        span("b", "a", "checkout", 1),
        span("c", "b", "inventory", 2, 900.0),
    ],
    duration=950.0,
)


def test_the_graph_follows_parent_spans_across_services() -> None:
    graph = graph_from_traces([FAILING])
    assert graph.edges == {
        ("frontend", "checkout"),
        ("checkout", "payments"),
        ("checkout", "inventory"),
    }
    assert graph.downstream("frontend") == {"checkout", "payments", "inventory"}
    assert graph.upstream("payments") == {"frontend", "checkout"}


def test_errors_originate_in_the_deepest_failing_span_and_latency_where_self_time_is() -> None:
    assert error_origins([FAILING, SLOW]) == Counter({"payments": 1})
    assert latency_origins([FAILING, SLOW]) == Counter({"inventory": 1, "frontend": 1})


def test_time_a_service_waits_on_its_database_is_the_databases_when_peers_count() -> None:
    waiting = span("q", "c", "inventory", 3, 850.0).model_copy(update={"waits_on": "postgres"})
    slow_db = trace(
        [span("a", None, "frontend", 0), span("c", "a", "inventory", 1, 40.0), waiting],
        duration=950.0,
    )
    assert latency_origins([slow_db]) == Counter({"inventory": 1})
    assert latency_origins([slow_db], peers=True) == Counter({"postgres": 1})


def test_a_leaf_client_span_names_the_peer_it_waits_on_and_a_server_span_none() -> None:
    assert waited_peer({"span.kind": "client", "db.system": "postgresql"}) == "postgresql"
    assert waited_peer({"span.kind": "client", "peer.service": "postgres"}) == "postgres"
    assert waited_peer({"span.kind": "server", "peer.service": "postgres"}) is None
    assert waited_peer({}) is None


def revision(
    number: int, minutes_ago: int, image: str, changes: list[TemplateChange] | None = None
) -> RevisionInfo:
    return RevisionInfo(
        revision=number,
        replicaset=f"rs-{number}",
        created=NOW - timedelta(minutes=minutes_ago),
        images=[image],
        replicas=1,
        ready=1,
        current=False,
        changes=changes or [],
    )


def deployment(name: str, revisions: list[RevisionInfo]) -> DeploymentData:
    newest = max(revisions, key=lambda r: r.revision)
    marked = [r.model_copy(update={"current": r is newest}) for r in revisions]
    return DeploymentData(
        namespace="prod",
        name=name,
        revision=newest.revision,
        desired=2,
        updated=2,
        ready=2,
        available=2,
        unavailable=0,
        strategy="RollingUpdate",
        paused=False,
        conditions=[],
        revisions=sorted(marked, key=lambda r: -r.revision),
    )


def test_the_timeline_lists_every_services_rollout_nearest_to_the_moment_first() -> None:
    cpu = TemplateChange(field="containers[app].resources.limits.cpu", old="500m", new="200m")
    deployments = [
        deployment("checkout", [revision(1, 3000, "c:1"), revision(2, 15, "c:2")]),
        deployment("inventory", [revision(1, 3000, "i:1"), revision(2, 40, "i:2", [cpu])]),
        deployment("payments", [revision(1, 3000, "p:1")]),  # never changed: no event
    ]
    events = change_events(deployments)
    assert [e.service for e in events] == ["inventory", "checkout"]
    assert events[0].lowered_cpu == ("500m", "200m")
    near = changes_near(events, NOW - timedelta(minutes=20))
    assert [e.service for e in near] == ["checkout", "inventory"]


def test_quantities_compare_in_cores_and_bytes() -> None:
    assert quantity("200m") == 0.2
    assert quantity("512Mi") == 512 * 2**20
    assert quantity("lots") is None


def test_the_service_whose_own_spans_fail_outranks_the_one_that_alerts() -> None:
    suspects = rank_suspects(
        alerted=["checkout"],
        unhealthy=Counter(),
        error_origins=Counter({"payments": 5}),
        latency_origins=Counter(),
        logs=Counter({"payments": 30, "checkout": 10}),
    )
    assert suspects[0].service == "payments"
    assert "deepest failing span" in " ".join(suspects[0].reasons)


def test_the_blast_radius_takes_the_callee_a_callers_timeout_names_and_nothing_unrelated() -> None:
    group = MessageGroup(
        message='Post "http://inventory.prod.svc:8080/reserve": context deadline exceeded',
        count=10,
        services={"checkout": 10},
        first_seen=None,
        last_seen=None,
    )
    radius = blast_radius(
        ["checkout"], Counter(), Counter(), [group], {"checkout", "inventory", "orders"}
    )
    assert radius == {"checkout", "inventory"}
