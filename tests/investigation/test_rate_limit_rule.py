"""A callee that answers its callers 429 Too Many Requests since its own release is rolled
back, never the callers (its 5xx error alert cannot see a 4xx); a 429 from an outside API,
from a callee that did not change, or from one released after the 429s began blames no
workload's release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.investigation.change_timeline import ChangeEvent
from bot.investigation.patterns.base import RuleContext
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.rules_rate_limit import rate_limited_by_callee, throttling
from policies import ActionKind
from tools.logs.aggregation_tools import MessageGroup, TopErrorsData
from tools.traces.summary import SpanSummary, TraceSummary
from tools.traces.tools import TraceSearchData

NOW = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)
CTX = RuleContext(now=NOW, incident_id=3, changes=())


def lines(
    message: str, writer: str = "orders", began: timedelta = timedelta(minutes=15)
) -> TopErrorsData:
    group = MessageGroup(
        message=message, count=120, services={writer: 120}, first_seen=NOW - began, last_seen=NOW
    )
    return TopErrorsData(total_errors=120, groups=[group], other_count=0)


def release(service: str, ago: timedelta) -> ChangeEvent:
    return ChangeEvent(
        namespace="shop", service=service, revision=5, at=NOW - ago,
        what="containers[app].image: stock:3.1.0 -> stock:3.2.0", images=("stock:3.2.0",),
    )  # fmt: skip


def limited_trace(answerer: str = "stock") -> TraceSummary:
    spans = [
        SpanSummary(
            span_id="a", parent_id=None, service="orders", operation="POST /order",
            start=NOW, duration_ms=12, self_ms=2, depth=0, error=True, status_code="502",
        ),
        SpanSummary(
            span_id="b", parent_id="a", service=answerer, operation="POST /reserve",
            start=NOW, duration_ms=3, self_ms=3, depth=1, error=True, status_code="429",
        ),
    ]  # fmt: skip
    return TraceSummary(
        trace_id="t1", root_service="orders", root_operation="POST /order", start=NOW,
        duration_ms=12, span_count=2, services=["orders", answerer], error_count=2,
        slowest=spans, errors=spans,
    )  # fmt: skip


def observed(message: str, *timeline: ChangeEvent, traced: bool = True) -> Observations:
    obs = Observations(namespace="shop", service="orders")
    obs.known = {"orders", "stock", "web"}
    obs.top_errors = lines(message)
    obs.timeline = list(timeline)
    if traced:
        obs.traces = TraceSearchData(traces=[limited_trace()])
    return obs


SPRING = "reserve failed: HttpClientErrorException$TooManyRequests: 429 from http://stock.shop.svc:8080/reserve"


def test_a_callee_answering_429_since_its_own_release_is_rolled_back_not_its_callers() -> None:
    obs = observed(
        SPRING, release("stock", timedelta(minutes=18)), release("orders", timedelta(minutes=18))
    )
    found = rate_limited_by_callee(obs, CTX)
    assert found is not None
    assert [(a.kind, a.target.name) for a in found.actions] == [
        (ActionKind.ROLLBACK_DEPLOYMENT, "stock")
    ]
    assert "stock answers orders with 429" in found.summary
    assert "4xx" in found.root_cause
    assert found.confidence == 0.8  # lines and traces agree


def test_the_rate_limit_is_read_in_other_wordings_and_from_the_traces_alone() -> None:
    for message in (
        "upstream stock rate limited the request (Retry-After: 30)",
        "requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: http://stock:8080/x",
    ):
        assert throttling(observed(message, traced=False)).lines["stock"] == 120, message
    only_traces = observed(
        "orders failed: context canceled", release("stock", timedelta(minutes=20))
    )
    found = rate_limited_by_callee(only_traces, CTX)
    assert found is not None
    assert found.confidence == 0.7


def test_a_429_from_an_outside_api_blames_no_workload() -> None:
    obs = observed(
        "charge rejected by gateway: 429 Too Many Requests from https://api.paygate.example.com/v1",
        release("orders", timedelta(minutes=18)),
        traced=False,
    )
    assert rate_limited_by_callee(obs, CTX) is None


def test_a_callee_released_days_ago_or_after_the_429s_began_is_not_rolled_back() -> None:
    long_ago = observed(SPRING, release("stock", timedelta(days=3)))
    assert rate_limited_by_callee(long_ago, CTX) is None
    after = observed(SPRING, release("stock", timedelta(minutes=2)))
    assert rate_limited_by_callee(after, CTX) is None
