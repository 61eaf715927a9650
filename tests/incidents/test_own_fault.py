"""An action on a workload is proposed only when its own behaviour is at fault: an incident
on a caller whose failures start in a dependency with trouble of its own (a rollout, an
incident) does not act on the caller; a caller that changed while its callee alerts (a
retry storm) is left to the finding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.incidents.own_fault import (
    LiveFaultEvidence,
    failure_origins,
    held_back,
    hold_reason,
)
from policies import ProposedAction
from sandbox.world import World, WorldOptions
from tools.config import JaegerConfig
from tools.traces.api import JaegerApi
from tools.traces.summary import SpanSummary, TraceSummary

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _span(service: str, depth: int, *, waits_on: str | None = None) -> SpanSummary:
    return SpanSummary(
        span_id=f"{service}-{depth}",
        parent_id=None,
        service=service,
        operation="op",
        start=NOW,
        duration_ms=10.0,
        self_ms=5.0,
        depth=depth,
        error=True,
        waits_on=waits_on,
    )


def _trace(*errors: SpanSummary) -> TraceSummary:
    return TraceSummary(
        trace_id="t",
        root_service="frontend",
        root_operation="GET /",
        start=NOW,
        duration_ms=10.0,
        span_count=3,
        services=sorted({s.service for s in errors}),
        error_count=len(errors),
        slowest=[],
        errors=list(errors),
    )


def _rollback(name: str) -> ProposedAction:
    return ProposedAction.model_validate(
        {
            "id": f"rollback-{name}",
            "kind": "rollback_deployment",
            "target": {"kind": "deployment", "namespace": "prod", "name": name},
            "reason": "the errors began with its release",
            "proposer": "agent",
            "confidence": 0.8,
            "blast_radius": {"pods_affected": 2, "workload_share": 0.3},
        }
    )


def test_a_failure_starts_in_the_deepest_failing_span_or_the_peer_a_client_waited_on() -> None:
    through_callee = _trace(_span("frontend", 0), _span("checkout", 1), _span("payments", 2))
    waited = _trace(_span("checkout", 1, waits_on="postgres"))
    assert failure_origins([through_callee, waited, _trace()]) == (
        2,
        {"payments": 1, "postgres": 1},
    )


def test_an_innocent_release_is_held_when_the_failures_start_in_a_callee_that_changed() -> None:
    found = hold_reason("frontend", 10, {"payments": 9, "frontend": 1}, {"payments": NOW}, {})
    assert found is not None
    assert found.origin == "payments"
    assert "9 of the 10 failing traces through frontend start in payments" in found.because()


def test_a_callee_with_an_incident_but_no_change_holds_only_a_caller_that_did_not_change() -> None:
    origins = {"payments": 10}
    assert hold_reason("checkout", 10, origins, {}, {"payments": 4}) is not None
    assert hold_reason("checkout", 10, origins, {"checkout": NOW}, {"payments": 4}) is None


def test_nothing_is_held_without_enough_failures_or_when_the_target_starts_its_own() -> None:
    changed = {"payments": NOW}
    assert hold_reason("frontend", 3, {"payments": 3}, changed, {}) is None
    assert hold_reason("frontend", 10, {"payments": 6, "frontend": 4}, changed, {}) is None
    assert hold_reason("frontend", 10, {"payments": 4, "cache": 3}, changed, {}) is None
    assert hold_reason("frontend", 10, {"payments": 10}, {}, {}) is None  # nothing of its own


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_in_the_world_a_coincident_release_is_held_and_a_retry_storms_caller_is_not() -> None:
    """Traces and rollouts read live from the sandbox's Jaeger and Kubernetes stand-ins."""
    with World(WorldOptions(history=3600, step=60, slack=None)).start() as world:
        evidence = LiveFaultEvidence(
            JaegerApi(JaegerConfig(url=world.urls.jaeger)), world.kube.api_client()
        )
        now = datetime.now(UTC)
        world.load("several-deploys")  # three releases; payments throws
        proposals = [_rollback("frontend"), _rollback("checkout"), _rollback("payments")]
        held = held_back(proposals, evidence, {"payments": 1}, now - timedelta(minutes=5), now)
        assert sorted((a.target.name, why.origin) for a, why in held) == [
            ("checkout", "payments"),
            ("frontend", "payments"),
        ]
        world.load("retry-storm-gateway-429")  # checkout's release retries; payments alerts
        held = held_back([_rollback("checkout")], evidence, {"payments": 1}, now, now)
        assert held == []


class _Recorded:
    """Evidence as read once: ten failing traces through frontend, all starting in
    payments, which was rolled out; whether frontend's own pods fail is set per test."""

    def __init__(self, pods_failing: bool) -> None:
        self.failing = pods_failing

    def traces(self, service: str, start: datetime, end: datetime) -> list[TraceSummary]:
        return [_trace(_span(service, 0), _span("payments", 1)) for _ in range(10)]

    def pods_failing(self, namespace: str, name: str) -> bool:
        return self.failing

    def rollouts(self, namespace: str, since: datetime) -> dict[str, datetime]:
        return {"payments": NOW - timedelta(minutes=20)}


def test_a_workload_whose_own_pods_fail_keeps_its_action_whatever_the_traces_say() -> None:
    proposals = [_rollback("frontend")]
    [(action, why)] = held_back(proposals, _Recorded(pods_failing=False), {}, NOW, NOW)
    assert (action.target.name, why.origin) == ("frontend", "payments")
    assert held_back(proposals, _Recorded(pods_failing=True), {}, NOW, NOW) == []
