"""Pattern rules that look past the service reporting a failure: a database refusing every
client points at the client whose release took its slots, and a disk full with no volume
short of space is the writer's own scratch space, restarted only as a stop-gap; a coincident
deploy of a service that only passes on its callee's errors is ruled out as such, and the
5xx a service passes on does not keep one alert's focus on it; an OOM kill of another
workload than the focus is not described with the focus's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.investigation.change_timeline import ChangeEvent
from bot.investigation.patterns.base import RuleContext
from bot.investigation.patterns.engine import ruled_out_changes
from bot.investigation.patterns.log_baseline import SteadyError
from bot.investigation.patterns.observe import Observations, Observer
from bot.investigation.patterns.rules_resources import db_pool
from bot.investigation.patterns.rules_storage import disk_filling
from bot.investigation.patterns.rules_workloads import oom_kill, originates_elsewhere
from policies import ActionKind
from tools.k8s.pods import ContainerInfo, PodInfo, PodsData
from tools.k8s.workload_resources import ContainerResources, WorkloadResourcesData
from tools.logs.aggregation_tools import MessageGroup, TopErrorsData
from tools.metrics.query_tools import InstantQueryData, InstantSample, RangeQueryData
from tools.metrics.series import SeriesSummary
from tools.toolbox import Toolbox
from tools.traces.summary import SpanSummary, TraceSummary
from tools.traces.tools import TraceSearchData

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
REFUSED = "org.postgresql.util.PSQLException: FATAL: sorry, too many clients already"


def errors(message: str, services: dict[str, int], since: timedelta) -> TopErrorsData:
    group = MessageGroup(
        message=message,
        count=sum(services.values()),
        services=services,
        first_seen=NOW - since,
        last_seen=NOW,
    )
    return TopErrorsData(total_errors=group.count, groups=[group], other_count=0)


def span(service: str, operation: str, depth: int, parent: str | None = None) -> SpanSummary:
    return SpanSummary(
        span_id=f"{service}-{depth}",
        parent_id=parent,
        service=service,
        operation=operation,
        start=NOW - timedelta(minutes=5),
        duration_ms=20,
        self_ms=20,
        depth=depth,
        error=False,
    )


def traces_with_sql_from(*services: str) -> TraceSearchData:
    spans = [span("checkout", "POST /checkout", 0)]
    spans += [span(s, f"SELECT {s}_table", 1, "checkout-0") for s in services]
    trace = TraceSummary(
        trace_id="t1",
        root_service="checkout",
        root_operation="POST /checkout",
        start=NOW - timedelta(minutes=5),
        duration_ms=80,
        span_count=len(spans),
        services=["checkout", *services],
        error_count=0,
        slowest=spans,
        errors=[],
    )
    return TraceSearchData(traces=[trace])


def release(service: str, ago: timedelta) -> ChangeEvent:
    image = f"registry.example.com/shop/{service}:9.9.9"
    return ChangeEvent("prod", service, 3, NOW - ago, f"image -> {image}", (image,))


def refusal_seen_by_payments(*timeline: ChangeEvent, sql: tuple[str, ...]) -> Observations:
    obs = Observations(namespace="prod", service="payments")
    obs.top_errors = errors(REFUSED, {"payments": 300}, since=timedelta(minutes=15))
    obs.traces = traces_with_sql_from(*sql)
    obs.timeline = list(timeline)
    return obs


def test_a_database_refusing_everyone_points_at_the_client_released_just_before() -> None:
    obs = refusal_seen_by_payments(
        release("inventory", timedelta(minutes=20)), sql=("inventory", "payments")
    )
    found = db_pool(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert "inventory" in found.summary
    assert "9.9.9" in found.summary
    ((kind, target),) = [(p.kind, p.target.name) for p in found.actions]
    assert (kind, target) == (ActionKind.ROLLBACK_DEPLOYMENT, "inventory")


def test_a_release_of_a_service_not_seen_running_sql_is_not_blamed() -> None:
    obs = refusal_seen_by_payments(
        release("frontend", timedelta(minutes=20)), sql=("inventory", "payments")
    )
    found = db_pool(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert all(p.target.name != "frontend" for p in found.actions)


def test_a_release_after_the_refusals_began_did_not_cause_them() -> None:
    obs = refusal_seen_by_payments(
        release("inventory", timedelta(minutes=5)), sql=("inventory", "payments")
    )
    found = db_pool(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert all(p.kind is not ActionKind.ROLLBACK_DEPLOYMENT for p in found.actions)


def test_a_clients_own_pool_running_dry_stays_that_clients_problem() -> None:
    obs = refusal_seen_by_payments(
        release("inventory", timedelta(minutes=20)), sql=("inventory", "payments")
    )
    obs.top_errors = errors(
        "HikariPool-1 - Connection is not available, request timed out after 30000ms",
        {"payments": 300},
        since=timedelta(minutes=15),
    )
    found = db_pool(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert [(p.kind, p.target.name) for p in found.actions] == [
        (ActionKind.RESTART_DEPLOYMENT, "payments")
    ]


def volumes_with_room() -> RangeQueryData:
    values = [((NOW - timedelta(minutes=10 * i)).timestamp(), 0.6) for i in range(12)][::-1]
    series = SeriesSummary(
        labels={"namespace": "prod", "persistentvolumeclaim": "postgres-data"},
        points=len(values),
        first=0.6,
        last=0.6,
        values=values,
    )
    return RangeQueryData(
        query="free ratio", start=NOW - timedelta(hours=2), end=NOW, step_seconds=600,
        total_series=1, series=[series],
    )  # fmt: skip


def test_a_full_disk_with_no_volume_short_of_space_is_the_writers_scratch_space() -> None:
    obs = Observations(namespace="prod", service=None)
    obs.top_errors = errors(
        "receipt not written: java.io.IOException: No space left on device",
        {"payments": 120},
        since=timedelta(minutes=10),
    )
    obs.ranges["volume_free_ratio"] = volumes_with_room()
    found = disk_filling(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert found.summary.startswith("payments cannot write")
    assert [(p.kind, p.target.name) for p in found.actions] == [
        (ActionKind.RESTART_DEPLOYMENT, "payments")
    ]
    assert "stop-gap" in found.actions[0].reason
    assert any("A human must" in step for step in found.recommendations)


def filling_postgres_volume() -> Observations:
    """prod/postgres-data at 5% free and falling."""
    values = [((NOW - timedelta(minutes=10 * i)).timestamp(), 0.05 + 0.01 * i) for i in range(12)]
    series = SeriesSummary(
        labels={"namespace": "prod", "persistentvolumeclaim": "postgres-data"},
        points=len(values), first=values[-1][1], last=values[0][1], values=values[::-1],
    )  # fmt: skip
    obs = Observations(namespace="prod", service=None)
    obs.ranges["volume_free_ratio"] = RangeQueryData(
        query="free ratio", start=NOW - timedelta(hours=2), end=NOW, step_seconds=600,
        total_series=1, series=[series],
    )  # fmt: skip
    return obs


def test_a_filling_volume_is_explained_by_what_its_owner_logs() -> None:
    obs = filling_postgres_volume()
    obs.top_errors = errors(
        "archive command failed with exit code 1", {"postgres": 40}, since=timedelta(hours=6)
    )
    found = disk_filling(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert "postgres, whose volume it is, logs errors" in found.root_cause
    assert "archive command failed" in found.root_cause


def test_a_volume_filling_for_hours_is_explained_by_its_owners_steady_errors_too() -> None:
    obs = filling_postgres_volume()
    obs.steady_errors = [
        SteadyError("postgres", "archive command failed with exit code 1", 40, 10.0, 10.0)
    ]
    found = disk_filling(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert "archive command failed" in found.root_cause


def failing(service: str, depth: int, parent: str | None) -> SpanSummary:
    return span(service, "POST /x", depth, parent).model_copy(
        update={"error": True, "status_code": "502"}
    )


def test_a_coincident_deploy_that_only_passes_on_a_callees_errors_is_ruled_out() -> None:
    errors_ = [
        failing("payments", 2, "checkout-1"),
        failing("checkout", 1, "frontend-0"),
        failing("frontend", 0, None),
    ]
    trace = TraceSummary(
        trace_id="t2", root_service="frontend", root_operation="POST /x",
        start=NOW - timedelta(minutes=3), duration_ms=30, span_count=3,
        services=["frontend", "checkout", "payments"], error_count=3,
        slowest=errors_, errors=errors_,
    )  # fmt: skip
    obs = Observations(namespace="prod", service="payments")
    obs.traces = TraceSearchData(traces=[trace])
    obs.timeline = [release("frontend", timedelta(minutes=10))]
    (reason,) = ruled_out_changes(obs, {"payments"}, NOW)
    assert "frontend was also deployed" in reason
    assert "pass on a callee's failure" in reason
    assert "may contribute" not in reason


def test_a_deploy_whose_errors_start_in_a_callee_is_not_its_own_regression() -> None:
    errors_ = [failing("inventory", 1, "checkout-0"), failing("checkout", 0, None)]
    trace = TraceSummary(
        trace_id="t3", root_service="checkout", root_operation="POST /x",
        start=NOW - timedelta(minutes=3), duration_ms=30, span_count=2,
        services=["checkout", "inventory"], error_count=2, slowest=errors_, errors=errors_,
    )  # fmt: skip
    obs = Observations(namespace="prod", service="checkout")
    obs.traces = TraceSearchData(traces=[trace])
    assert originates_elsewhere(obs, "checkout", errors=True)
    assert not originates_elsewhere(obs, "inventory", errors=True)
    assert not originates_elsewhere(Observations("prod", "checkout"), "checkout", errors=True)


def test_one_alert_is_not_kept_on_its_service_by_the_5xx_it_passed_on() -> None:
    errors_ = [failing("inventory", 1, "checkout-0"), failing("checkout", 0, None)]
    trace = TraceSummary(
        trace_id="t4", root_service="checkout", root_operation="POST /x",
        start=NOW - timedelta(minutes=3), duration_ms=30, span_count=2,
        services=["checkout", "inventory"], error_count=2, slowest=errors_, errors=errors_,
    )  # fmt: skip
    obs = Observations(namespace="prod", service="checkout")
    obs.alerted = ["checkout"]
    obs.traces = TraceSearchData(traces=[trace])
    passed_on = MessageGroup(
        message="checkout failed: upstream error status=502", count=4,
        services={"checkout": 4}, first_seen=None, last_seen=None,
    )  # fmt: skip
    disk = errors("OSError: [Errno 28] No space left on device", {"inventory": 300}, timedelta(0))
    obs.top_errors = disk.model_copy(update={"groups": [*disk.groups, passed_on]})
    Observer(Toolbox([]))._focus(obs, single=True)
    assert obs.service == "inventory"
    assert any(g.services == {"inventory": 300} for g in obs.top_errors.groups)


def oom_killed_frontend_pod(n: int) -> PodInfo:
    web = ContainerInfo(
        name="web", image="registry.example.com/shop/frontend:4.14.0", ready=False,
        restarts=4, state="waiting", reason="CrashLoopBackOff",
        last_termination_reason="OOMKilled", last_exit_code=137,
    )  # fmt: skip
    return PodInfo(
        name=f"frontend-7d9f8b6c5d-x{n}", namespace="prod", phase="Running", node="worker-1",
        ready="0/1", restarts=4, created=None, owner="ReplicaSet/frontend-7d9f8b6c5d",
        containers=[web], healthy=False,
    )  # fmt: skip


def test_an_oom_kill_elsewhere_does_not_borrow_the_focus_services_limit() -> None:
    obs = Observations(namespace="prod", service="payments")  # the focus is another service
    obs.pods = PodsData(namespace="prod", selector=None, total=1, pods=[oom_killed_frontend_pod(1)])
    at = NOW
    payments_limit = InstantQueryData(
        query="limits", time=at, result_type="vector",
        samples=[InstantSample(labels={"resource": "memory"}, value=768 * 2**20)],
    )  # fmt: skip
    obs.instants["memory_limit_bytes"] = payments_limit
    obs.instants["resource_limits"] = payments_limit
    found = oom_kill(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert found.summary.startswith("1 pod(s) of frontend are OOM-killed")
    assert "768Mi" not in found.summary + found.root_cause
    assert all(p.kind is not ActionKind.SET_RESOURCES for p in found.actions)


def test_an_oom_kill_elsewhere_raises_that_workloads_own_limit_read_from_its_template() -> None:
    obs = Observations(namespace="prod", service="checkout")  # the caller was alerted first
    obs.pods = PodsData(namespace="prod", selector=None, total=1, pods=[oom_killed_frontend_pod(1)])
    obs.instants["resource_limits"] = InstantQueryData(
        query="limits", time=NOW, result_type="vector",
        samples=[InstantSample(labels={"resource": "memory"}, value=768 * 2**20)],
    )  # fmt: skip
    web = ContainerResources(
        name="web", image="registry.example.com/shop/frontend:4.14.0",
        requests={"cpu": "250m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "512Mi"},
    )  # fmt: skip
    obs.workload_resources["frontend"] = WorkloadResourcesData(
        namespace="prod", name="frontend", kind="Deployment", replicas=2, containers=[web],
        last_oom=None, oom_killed_containers=1, pods=[],
    )  # fmt: skip
    found = oom_kill(obs, RuleContext(NOW, 1, ()))
    assert found is not None
    assert "(memory limit 512Mi)" in found.summary
    (raised,) = [p for p in found.actions if p.kind is ActionKind.SET_RESOURCES]
    assert str(raised.target) == "deployment/prod/frontend"
    params = raised.params.model_dump()
    assert params["container"] == "web"
    assert params["memory_limit"] == "1024Mi"
    assert params["previous_memory_limit"] == "512Mi"
    assert params["cpu_limit"] == params["previous_cpu_limit"] == "1000m"
    assert params["memory_request"] == "256Mi"
