"""Trace analysis on traces built span by span: N+1, slow downstream, serial fan-out, errors."""

from __future__ import annotations

from typing import Any

from bot.analysis.traces import Trace, analyse_trace, build_tree, parse_trace, summarise_traces
from bot.analysis.traces.timing import critical_path, self_time

BASE_US = 1_700_000_000_000_000


class TraceBuilder:
    """Writes Jaeger JSON (times in ms from the trace start) and parses it like the API's."""

    def __init__(self, trace_id: str = "abc123") -> None:
        self.trace_id = trace_id
        self.spans: list[dict[str, Any]] = []
        self.processes: dict[str, dict[str, Any]] = {}

    def span(
        self,
        operation: str,
        service: str,
        start_ms: float,
        duration_ms: float,
        parent: str | None = None,
        *,
        tags: dict[str, Any] | None = None,
        logs: list[dict[str, Any]] | None = None,
        ref_type: str = "CHILD_OF",
    ) -> str:
        span_id = f"{len(self.spans) + 1:016x}"
        process_id = f"p-{service}"
        self.processes[process_id] = {"serviceName": service, "tags": []}
        self.spans.append(
            {
                "traceID": self.trace_id,
                "spanID": span_id,
                "operationName": operation,
                "references": (
                    [{"refType": ref_type, "traceID": self.trace_id, "spanID": parent}]
                    if parent
                    else []
                ),
                "startTime": BASE_US + int(start_ms * 1000),
                "duration": int(duration_ms * 1000),
                "tags": [
                    {"key": k, "type": _jaeger_type(v), "value": v} for k, v in (tags or {}).items()
                ],
                "logs": [
                    {
                        "timestamp": BASE_US + int(start_ms * 1000),
                        "fields": [
                            {"key": k, "type": "string", "value": v} for k, v in log.items()
                        ],
                    }
                    for log in (logs or [])
                ],
                "processID": process_id,
                "warnings": None,
            }
        )
        return span_id

    def build(self) -> Trace:
        envelope = {
            "data": [{"traceID": self.trace_id, "spans": self.spans, "processes": self.processes}],
            "total": 0,
            "limit": 0,
            "offset": 0,
            "errors": None,
        }
        return parse_trace(envelope)


def _jaeger_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    return "float64" if isinstance(value, float) else "string"


def test_fifty_sequential_queries_under_one_parent_are_an_n_plus_one() -> None:
    b = TraceBuilder()
    root = b.span("GET /orders", "api", 0, 620)
    for i in range(50):
        statement = f"SELECT * FROM items WHERE order_id = {1000 + i}"
        b.span("SELECT items", "api", 10 + i * 12, 10, root, tags={"db.statement": statement})
    for _ in range(8):  # a parallel batch is no N+1
        b.span("GET cache", "api", 11, 5, root)
    found = analyse_trace(b.build()).n_plus_one
    assert len(found) == 1
    n1 = found[0]
    assert (n1.count, n1.service, n1.operation) == (50, "api", "SELECT items")
    assert n1.statement == "SELECT * FROM items WHERE order_id = ?"
    assert n1.total_us == 500_000
    assert n1.sequential_ratio == 1.0
    assert n1.parent.operation == "GET /orders"


def test_a_slow_downstream_is_the_bottleneck_on_the_critical_path() -> None:
    b = TraceBuilder()
    root = b.span("GET /checkout", "frontend", 0, 1000)
    api = b.span("POST /orders", "orders", 20, 950, root)
    b.span("SELECT stock", "inventory", 30, 40, api)
    b.span("POST /charge", "payments", 80, 860, api)
    b.span("render", "frontend", 5, 10, root)
    analysis = analyse_trace(b.build())
    bottleneck = analysis.bottleneck
    assert bottleneck is not None
    assert (bottleneck.service, bottleneck.span.operation) == ("payments", "POST /charge")
    assert bottleneck.span_time_us == 860_000
    assert bottleneck.span_share == 0.86
    on_path = [s.span.operation for s in analysis.critical_path]
    assert on_path == [
        "GET /checkout",
        "render",  # nothing else ran before POST /orders started
        "GET /checkout",
        "POST /orders",
        "SELECT stock",
        "POST /orders",
        "POST /charge",
        "POST /orders",
        "GET /checkout",
    ]
    assert sum(s.duration_us for s in analysis.critical_path) == analysis.duration_us
    assert analysis.self_time_by_service[0].service == "payments"


def test_critical_path_follows_the_last_finishing_child_and_self_time_subtracts_children() -> None:
    b = TraceBuilder()
    root = b.span("root", "svc", 0, 100)
    b.span("a", "svc", 10, 30, root)
    b.span("b", "svc", 30, 60, root)
    tree = build_tree(b.build())
    path = [
        (s.span.operation, s.start_us - BASE_US, s.end_us - BASE_US) for s in critical_path(tree)
    ]
    assert path == [
        ("root", 0, 10_000),
        ("a", 10_000, 30_000),
        ("b", 30_000, 90_000),
        ("root", 90_000, 100_000),
    ]
    assert self_time(tree.root) == 20_000


def test_calls_to_different_services_one_after_another_could_run_in_parallel() -> None:
    b = TraceBuilder()
    root = b.span("GET /product", "gateway", 0, 400)
    b.span("GET /users/7", "users", 10, 100, root)
    b.span("GET /stock/7", "inventory", 115, 150, root)
    b.span("GET /price/7", "pricing", 270, 80, root)
    b.span("GET /reviews", "reviews", 360, 20, root)
    b.span("GET /reco", "reco", 362, 20, root)  # overlaps the previous call: already parallel
    found = analyse_trace(b.build()).sequential_calls
    assert len(found) == 1
    serial = found[0]
    assert serial.targets == ["users", "inventory", "pricing", "reviews"]
    assert serial.total_us == 370_000
    assert serial.parallel_us == 150_000
    assert serial.saving_us == 220_000


def test_calls_already_overlapping_or_to_the_same_service_are_not_reported() -> None:
    b = TraceBuilder()
    root = b.span("GET /a", "gateway", 0, 300)
    b.span("GET /users", "users", 0, 100, root)
    b.span("GET /stock", "inventory", 50, 100, root)
    b.span("GET /stock/2", "inventory", 160, 100, root)
    assert analyse_trace(b.build()).sequential_calls == []


def test_error_spans_are_found_by_tag_status_code_or_http_status_with_their_message() -> None:
    b = TraceBuilder()
    root = b.span("GET /pay", "gateway", 0, 100, tags={"http.status_code": 502})
    b.span(
        "charge",
        "payments",
        5,
        50,
        root,
        tags={"error": True},
        logs=[{"event": "error", "message": "card declined by issuer"}],
    )
    b.span(
        "ledger",
        "ledger",
        60,
        10,
        root,
        tags={"otel.status_code": "ERROR", "otel.status_description": "deadlock detected"},
    )
    b.span("GET /user", "users", 75, 5, root, tags={"http.status_code": "404"})
    b.span("audit", "audit", 85, 5, root, tags={"error": "false"})
    errors = analyse_trace(b.build()).errors
    summary = [(e.span.operation, e.reasons, e.message) for e in errors]
    assert summary == [
        ("GET /pay", ["http.status_code=502"], None),
        ("charge", ["error=true"], "card declined by issuer"),
        ("ledger", ["otel.status_code=ERROR"], "deadlock detected"),
    ]


def test_clock_skew_of_a_remote_child_is_corrected_with_its_subtree() -> None:
    b = TraceBuilder()
    root = b.span("GET /x", "web", 100, 100)
    child = b.span("handle", "backend", 40, 60, root)  # its host clock runs 80 ms late
    b.span("query", "db", 50, 20, child)
    tree = build_tree(b.build())
    handle = next(n for n in tree.nodes.values() if n.operation == "handle")
    query = handle.children[0]
    assert (handle.start - BASE_US, handle.end - BASE_US) == (120_000, 180_000)
    assert query.start - BASE_US == 130_000
    assert any("clock skew" in w for w in tree.warnings)


def test_follows_from_children_and_orphans_are_placed_and_reported() -> None:
    b = TraceBuilder()
    root = b.span("enqueue", "api", 0, 10)
    b.span("consume", "worker", 50, 30, root, ref_type="FOLLOWS_FROM")
    b.span("lost", "worker", 200, 5, "ffffffffffffffff")
    tree = build_tree(b.build())
    consume = next(n for n in tree.nodes.values() if n.operation == "consume")
    assert consume.parent is tree.root
    assert consume.ref_type == "FOLLOWS_FROM"
    assert consume.skew == 0
    assert sorted(n.operation for n in tree.roots) == ["enqueue", "lost"]
    assert any("outside the trace" in w for w in tree.warnings)
    assert tree.duration == 205_000
    assert [s.span.operation for s in critical_path(tree)] == ["enqueue"]


def test_slow_trace_summary_gives_percentiles_and_what_dominates_slow_traces() -> None:
    traces = []
    for i in range(20):
        slow = i in (7, 13)
        b = TraceBuilder(trace_id=f"t{i}")
        root = b.span("GET /checkout", "frontend", 0, 1000 if slow else 100)
        b.span("SELECT cart", "db", 5, 10 + i % 3, root)
        b.span("POST /charge", "payments", 20, 950 if slow else 50, root)
        traces.append(b.build())
    summary = summarise_traces(traces, slow_quantile=90)
    assert summary.trace_count == 20
    assert sorted(summary.slow_trace_ids) == ["t13", "t7"]
    charge = next(o for o in summary.operations if o.operation == "POST /charge")
    assert (charge.count, charge.p50_us, charge.max_us) == (20, 50_000, 950_000)
    assert charge.p99_us >= charge.p95_us > charge.p50_us
    assert summary.operations[0].operation == "GET /checkout"
    top = summary.dominant_in_slow[0]
    assert (top.service, top.operation) == ("payments", "POST /charge")
    assert top.share > 0.9
