"""A slow dependency outside the cluster: the calling service's own span time grows with no
client span under it, and its warning/error lines name the external host (in the wording of
a JVM, Python, Node, Go or .NET HTTP client). The finding says the time is spent in that
external dependency, outranks a coincident release of a caller, names the human step, and
proposes scaling out only as a mitigation when the outbound pool is full."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.investigation.agent.finding import Engine, Investigation
from bot.investigation.blocks import finding_blocks
from bot.investigation.change_timeline import ChangeEvent
from bot.investigation.patterns.base import RuleContext
from bot.investigation.patterns.egress_logs import (
    external_host,
    hosts_named,
    reports_saturation,
    reports_waiting,
)
from bot.investigation.patterns.engine import decide, finding_from
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.rules_egress import external_dependency, own_time, slower_since
from bot.investigation.recorded import LogRecord, RecordedPack, Span
from bot.investigation.window_reader import Windows
from bot.slack.blocks import as_dicts
from policies import ActionKind
from tests.investigation.test_service_graph_and_timeline import deployment
from tools.k8s.deployments import DeploymentData, RevisionInfo
from tools.metrics.query_tools import InstantQueryData, InstantSample
from tools.traces.summary import SpanSummary, TraceSummary
from tools.traces.tools import TraceSearchData

NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
ONSET = NOW - timedelta(minutes=15)
KNOWN = {"checkout", "payments", "frontend", "postgres"}
HOST = "api.acquirer.example.com"

TIMEOUT_LINES = [
    # JVM (Apache HttpClient, Spring, OkHttp)
    f"java.net.SocketTimeoutException: Read timed out (https://{HOST}/v2/authorizations)",
    f'I/O error on POST request for "https://{HOST}/v2/auth": Read timed out',
    f"Connect to {HOST}:443 [{HOST}/203.0.113.7] failed: connect timed out",
    # Python (requests, httpx)
    f"requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='{HOST}', port=443): "
    "Read timed out. (read timeout=3)",
    f"httpx.ReadTimeout: timed out while calling https://{HOST}/v1/charge",
    # Node (axios, undici)
    f"AxiosError: timeout of 3000ms exceeded (POST https://{HOST}/v2/auth)",
    f"Error: connect ETIMEDOUT {HOST}:443",
    f"ConnectTimeoutError: Connect Timeout Error (attempted address: {HOST}:443, timeout: 10000ms)",
    # Go
    f'Post "https://{HOST}/v2/auth": context deadline exceeded (Client.Timeout exceeded '
    "while awaiting headers)",
    f"rpc error: code = DeadlineExceeded desc = deadline exceeded calling {HOST}:443",
    # .NET
    "System.Threading.Tasks.TaskCanceledException: The request was canceled due to the "
    f"configured HttpClient.Timeout of 3 seconds elapsing. POST https://{HOST}/v2/auth",
    f"Polly.Timeout.TimeoutRejectedException: timeout calling https://{HOST}/v2/auth",
]


@pytest.mark.parametrize("line", TIMEOUT_LINES)
def test_a_timeout_to_an_external_host_is_read_in_every_runtimes_wording(line: str) -> None:
    assert reports_waiting(line)
    assert external_host(line, KNOWN) == HOST


@pytest.mark.parametrize(
    "line",
    [
        'Post "http://payments.prod.svc.cluster.local:8080/charge": context deadline exceeded',
        "GET http://payments:8080/charge timed out",
        "read tcp 10.244.1.7:443: i/o timeout",
        "Read timed out calling https://payments.prod/charge",
        "at com.shop.payments.AcquirerClient.call(AcquirerClient.java:88) timed out",
        "java.net.SocketTimeoutException: Read timed out",
        "connect ETIMEDOUT 127.0.0.1:443",
    ],
)
def test_a_cluster_service_a_private_address_a_source_file_or_no_host_is_not_external(
    line: str,
) -> None:
    assert external_host(line, KNOWN) is None


def test_a_host_is_read_only_as_the_characters_a_dns_name_can_hold() -> None:
    hostile = f"timed out: https://{HOST}/x<!channel>*bold*`code` host=<@U123>evil.example"
    assert hosts_named(hostile) == [HOST]


@pytest.mark.parametrize(
    ("line", "full"),
    [
        (f"acquirer call slow: host={HOST} leased=50/50 pending=31", True),
        (f"acquirer call slow: host={HOST} leased=12/50 pending=0", False),
        (f"Timeout deadline: 3000 MILLISECONDS waiting for a connection to {HOST}:443", True),
        (
            "org.apache.http.conn.ConnectionPoolTimeoutException: Timeout waiting for connection "
            "from pool",
            True,
        ),
        (f"httpx.PoolTimeout while calling https://{HOST}/v2/auth", True),
        (
            f'Post "https://{HOST}/v2/auth": net/http: request canceled while waiting for '
            "connection (Client.Timeout exceeded while awaiting headers)",
            False,
        ),
        (
            "io.github.resilience4j.bulkhead.BulkheadFullException: Bulkhead 'acquirer' is full "
            "and does not permit further calls",
            True,
        ),
        ("HikariPool-1 - Connection is not available, request timed out after 30000ms", False),
    ],
)
def test_an_outbound_pool_is_full_only_when_the_line_says_so(line: str, full: bool) -> None:
    assert reports_saturation(line) is full


def _span(
    service: str, operation: str, self_ms: float, total: float, **extra: object
) -> SpanSummary:
    return SpanSummary(
        span_id=f"{service}-{operation}",
        parent_id=None,
        service=service,
        operation=operation,
        start=NOW - timedelta(minutes=5),
        duration_ms=total,
        self_ms=self_ms,
        depth=1,
        error=False,
        **extra,
    )


def _traces(*slowest: SpanSummary, duration: float = 2700.0) -> TraceSearchData:
    traces = [
        TraceSummary(
            trace_id=f"t{i}",
            root_service="checkout",
            root_operation="POST /checkout",
            start=NOW - timedelta(minutes=5),
            duration_ms=duration,
            span_count=len(slowest) + 1,
            services=sorted({s.service for s in slowest}),
            error_count=0,
            slowest=list(slowest),
            errors=[],
        )
        for i in range(4)
    ]
    return TraceSearchData(traces=traces)


def _own_time_traces() -> TraceSearchData:
    return _traces(
        _span("payments", "POST /charge", 2600, 2650), _span("checkout", "POST /checkout", 5, 2700)
    )


def _lines(
    service: str, messages: list[str], start: float, end: float, level: str
) -> list[LogRecord]:
    count = 60 if messages else 0
    return [
        LogRecord(
            start + (end - start) * i / count,
            service,
            f"{service}-0",
            level,
            messages[i % len(messages)],
        )
        for i in range(count)
    ]


def _deployment(name: str, released: bool) -> DeploymentData:
    revisions = [
        RevisionInfo(
            revision=2,
            replicaset=f"{name}-a",
            created=NOW - timedelta(days=2),
            images=[],
            replicas=2,
            ready=2,
            current=False,
        ),
    ]
    if released:
        revisions.insert(
            0,
            RevisionInfo(
                revision=3,
                replicaset=f"{name}-b",
                created=NOW - timedelta(minutes=16),
                images=[],
                replicas=2,
                ready=2,
                current=False,
            ),
        )
    return deployment(name, revisions)  # the newest revision is the current one


def observed(
    messages: list[str],
    *,
    before: bool = False,
    traces: TraceSearchData | None = None,
    caller_release: bool = True,
    payments_release: bool = False,
) -> Observations:
    """checkout -> payments; payments' warning lines (since the onset, and before it when
    `before`) and the slow traces; checkout released at the onset."""
    onset, start, end = (
        ONSET.timestamp(),
        (ONSET - timedelta(minutes=30)).timestamp(),
        NOW.timestamp(),
    )
    logs = _lines("payments", messages, onset, end, "WARN")
    if before:
        logs += _lines("payments", messages, start, onset, "WARN")
    pack = RecordedPack("live", "test", (onset, end), (start, onset - 1e-3), logs=logs)
    obs = Observations(namespace="prod", service="payments", alerted=["checkout", "payments"])
    obs.known = set(KNOWN)
    obs.windows = Windows(pack)
    obs.traces = traces if traces is not None else _own_time_traces()
    obs.deployments = {"payments": _deployment("payments", payments_release)}
    obs.deployment = obs.deployments["payments"]
    timeline = []
    if caller_release:
        image = "registry.example.com/shop/checkout:1.8.3"
        timeline.append(ChangeEvent("prod", "checkout", 3, ONSET, f"image -> {image}", (image,)))
    if payments_release:
        image = "registry.example.com/shop/payments:9.9.9"
        timeline.append(
            ChangeEvent(
                "prod", "payments", 3, NOW - timedelta(minutes=16), f"image -> {image}", (image,)
            )
        )
    obs.timeline = timeline
    return obs


CTX = RuleContext(NOW, 1, ())
SATURATED = [
    f"acquirer call slow: host={HOST} leased=50/50 pending=40",
    f"authorization failed: java.net.SocketTimeoutException: Read timed out (https://{HOST}/v2/a)",
]


def test_time_spent_in_an_external_host_is_named_and_outranks_a_callers_release() -> None:
    obs = observed(SATURATED)
    candidates, changes = decide(obs, CTX)
    finding = finding_from(obs, candidates, changes, now=NOW)
    assert finding.rule == "external-dependency"
    text = f"{finding.summary} {finding.root_cause}"
    assert "external dependency" in text
    assert HOST in text
    assert "Ruled out: checkout was also deployed" in finding.root_cause
    assert all(p.target.name != "checkout" for p in finding.proposals)
    assert finding.confidence < 0.9


def test_a_full_outbound_pool_gets_scale_out_labelled_a_mitigation_and_a_human_step() -> None:
    found = external_dependency(observed(SATURATED), CTX)
    assert found is not None
    ((proposal,),) = [found.actions]
    assert proposal.kind is ActionKind.SCALE_DEPLOYMENT
    assert proposal.target.name == "payments"
    assert "mitigation" in proposal.reason
    assert proposal.confidence <= 0.5
    assert any("contact the provider" in r and HOST in r for r in found.recommendations)


def test_timeouts_without_a_full_pool_propose_no_action_only_the_human_step() -> None:
    messages = [
        f"POST https://{HOST}/v2/auth answered in 2400ms (budget 800ms)",
        *TIMEOUT_LINES[:2],
    ]
    found = external_dependency(observed(messages), CTX)
    assert found is not None
    assert found.actions == []
    assert any("fail over" in r for r in found.recommendations)


def test_a_host_that_timed_out_as_often_before_the_trouble_is_not_blamed() -> None:
    assert external_dependency(observed(SATURATED, before=True), CTX) is None


def test_time_held_by_a_traced_callee_is_not_put_on_an_external_host() -> None:
    callee = _traces(
        _span("postgres", "query", 2600, 2600), _span("payments", "POST /charge", 20, 2650)
    )
    assert external_dependency(observed(SATURATED, traces=callee), CTX) is None


def test_a_database_client_span_is_a_wait_on_the_database_not_own_time() -> None:
    waits = _traces(_span("payments", "SELECT payments", 2600, 2600, waits_on="postgresql"))
    assert own_time(waits.traces) is None


def test_a_release_of_the_calling_service_itself_lowers_the_confidence_and_keeps_actions_off() -> (
    None
):
    found = external_dependency(observed(SATURATED, payments_release=True), CTX)
    assert found is not None
    assert found.confidence < 0.5
    assert found.actions == []
    assert "was released" in found.root_cause


def test_without_traces_the_logs_alone_name_the_host_with_less_confidence() -> None:
    found = external_dependency(observed(SATURATED, traces=TraceSearchData(traces=[])), CTX)
    assert found is not None
    assert HOST in found.summary
    assert found.confidence <= 0.6


def test_with_no_action_the_callers_release_is_still_ruled_out_when_the_caller_is_in_focus() -> (
    None
):
    messages = [f"POST https://{HOST}/v2/auth answered in 2400ms (budget 800ms)"]
    obs = observed(messages)
    obs.service = "checkout"  # the first alert's service, which also rolled out
    candidates, changes = decide(obs, CTX)
    finding = finding_from(obs, candidates, changes, now=NOW)
    assert finding.rule == "external-dependency"
    assert finding.proposals == []
    assert "Ruled out: checkout was also deployed" in finding.root_cause
    assert "the evidence points at payments" in finding.root_cause


def test_an_instrumented_client_span_to_an_external_host_names_it_without_any_log_line() -> None:
    client = _traces(
        _span("payments", "POST", 2600, 2600, waits_on=HOST),
        _span("checkout", "POST /checkout", 5, 2700),
    )
    obs = observed([], traces=client)
    assert external_dependency(obs, CTX) is None, "nothing yet says the call became slow"
    onset = ONSET.timestamp()
    obs.windows = Windows(
        RecordedPack(
            "live",
            "test",
            (onset, NOW.timestamp()),
            (onset - 1800, onset - 1e-3),
            spans=[
                Span(
                    f"t{i}",
                    f"s{i}",
                    None,
                    "payments",
                    "payments-0",
                    "POST",
                    onset + sign * 60 * (i + 1),
                    ms,
                )
                for i in range(5)
                for sign, ms in ((-1, 180.0), (1, 2600.0))
            ],
        )
    )
    found = external_dependency(obs, CTX)
    assert found is not None
    assert f"client call to {HOST}" in found.root_cause
    assert found.confidence < 0.7


def test_a_client_span_to_a_cluster_service_or_a_database_system_is_not_external() -> None:
    for peer in ("postgresql", "payments.prod.svc.cluster.local", "redis"):
        spans = _traces(_span("payments", "GET", 2600, 2600, waits_on=peer))
        assert own_time(spans.traces, KNOWN) is None


def test_a_call_as_slow_before_the_onset_as_since_is_not_new() -> None:
    spans = [
        Span(f"t{i}", f"s{i}", None, "payments", "p-0", "POST", 100.0 * i, 2500.0)
        for i in range(10)
    ]
    assert not slower_since(spans, "payments", "POST", 500.0)
    assert not slower_since(spans[:3], "payments", "POST", 500.0), "no spans since the onset"


def test_a_hostile_log_line_reaches_slack_escaped_and_the_host_only_as_a_dns_name() -> None:
    hostile = [f"<!channel> *pay now* <@U0123|boss> Read timed out (https://{HOST}/v2/a)"]
    obs = observed(hostile)
    candidates, changes = decide(obs, CTX)
    finding = finding_from(obs, candidates, changes, now=NOW)
    assert finding.rule == "external-dependency"
    assert f"outside the cluster, {HOST}:" in finding.summary
    rendered = json.dumps(
        as_dicts(finding_blocks(Investigation(finding=finding, engine=Engine.PATTERN)))
    )
    assert "<!channel>" not in rendered
    assert "<@U0123" not in rendered


def test_a_service_scaled_by_an_hpa_gets_raise_max_replicas_instead_of_a_scale_proposal() -> None:
    obs = observed(SATURATED)
    labels = {
        "horizontalpodautoscaler": "payments",
        "scaletargetref_kind": "Deployment",
        "scaletargetref_name": "payments",
    }
    obs.instants["autoscalers"] = InstantQueryData(
        query="kube_horizontalpodautoscaler_info",
        time=NOW,
        result_type="vector",
        total_series=1,
        samples=[InstantSample(labels=labels, value=1.0)],
    )
    found = external_dependency(obs, CTX)
    assert found is not None
    assert found.actions == []
    assert any("raise its maxReplicas" in r for r in found.recommendations)
