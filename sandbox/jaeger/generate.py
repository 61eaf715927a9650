"""Realistic, seeded traces of a small shop for scenarios.

The call tree: frontend -> checkout -> (inventory | payments, concurrently) -> postgres, then
checkout writes the order to postgres. Spans carry OpenTelemetry-style tags (span.kind,
http.method, http.url, http.status_code, peer.service, db.system, db.statement, ...), every
service has a process with hostname / ip / jaeger.version tags, and durations are jittered.

Patterns inject the problems an investigator should find: `SlowDependency`,
`NPlusOneQueries`, `SequentialCalls`, `ErrorResponses`. The same seed and `end_us` give
byte-identical traces.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sandbox.jaeger.spans import (
    Json,
    ProcessInfo,
    SpanLog,
    SpanNode,
    jitter,
    lay_out,
    process_for,
    to_jaeger_trace,
)

SERVICES = ("frontend", "checkout", "inventory", "payments")
PORT = 8080
STOCK_QUERY = "SELECT quantity FROM stock WHERE sku = $1"


class TracePattern(Protocol):
    """A problem injected into a share (`ratio`) of the generated traces."""

    @property
    def ratio(self) -> float: ...

    def apply(self, root: SpanNode, rng: random.Random) -> None: ...


def server_span(
    service: str, method: str, route: str, self_us: float, rng: random.Random
) -> SpanNode:
    return SpanNode(
        service=service,
        operation=f"{method} {route}",
        self_us=jitter(rng, self_us),
        tags={
            "span.kind": "server",
            "http.method": method,
            "http.url": f"http://{service}:{PORT}{route}",
            "http.route": route,
            "http.status_code": 200,
        },
    )


def http_call(caller: str, server: SpanNode, rng: random.Random) -> SpanNode:
    """The caller's client span wrapping the callee's server span (network time around it)."""
    callee = server.service
    client = SpanNode(
        service=caller,
        operation=str(server.tags["http.method"]),
        self_us=jitter(rng, 900),
        tags={
            "span.kind": "client",
            "http.method": server.tags["http.method"],
            "http.url": server.tags["http.url"],
            "http.status_code": 200,
            "peer.service": callee,
            "net.peer.name": callee,
            "net.peer.port": PORT,
        },
    )
    client.stages.append([server])
    return client


def db_call(caller: str, statement: str, self_us: float, rng: random.Random) -> SpanNode:
    verb, table = _verb_and_table(statement)
    return SpanNode(
        service=caller,
        operation=f"{verb} {table}",
        self_us=jitter(rng, self_us, spread=0.35),
        tags={
            "span.kind": "client",
            "db.system": "postgresql",
            "db.name": "shop",
            "db.user": "shop_app",
            "db.statement": statement,
            "peer.service": "postgres",
            "net.peer.name": "postgres",
            "net.peer.port": 5432,
        },
    )


def checkout_tree(rng: random.Random) -> SpanNode:
    inventory = server_span("inventory", "POST", "/reserve", 1_800, rng)
    inventory.stages = [
        [db_call("inventory", STOCK_QUERY, 2_200, rng)],
        [
            db_call(
                "inventory", "UPDATE stock SET quantity = quantity - $1 WHERE sku = $2", 3_000, rng
            )
        ],
    ]
    payments = server_span("payments", "POST", "/charge", 4_000, rng)
    payments.stages = [
        [
            db_call(
                "payments",
                "INSERT INTO payments (order_id, amount_cents, status) VALUES ($1, $2, $3)",
                3_500,
                rng,
            )
        ]
    ]
    checkout = server_span("checkout", "POST", "/checkout", 2_500, rng)
    checkout.stages = [
        [http_call("checkout", inventory, rng), http_call("checkout", payments, rng)],
        [
            db_call(
                "checkout",
                "INSERT INTO orders (id, customer_id, total_cents) VALUES ($1, $2, $3)",
                2_800,
                rng,
            )
        ],
    ]
    frontend = server_span("frontend", "POST", "/api/checkout", 3_000, rng)
    frontend.stages = [[http_call("frontend", checkout, rng)]]
    return frontend


@dataclass(frozen=True)
class SlowDependency:
    """Spans of `target` (a service, or `postgres` for every query) take `extra_ms` longer."""

    target: str = "payments"
    extra_ms: float = 1_200.0
    ratio: float = 1.0

    def apply(self, root: SpanNode, rng: random.Random) -> None:
        for node in root.walk():
            served_here = node.kind == "server" and node.service == self.target
            queried = node.tags.get("peer.service") == self.target and "db.system" in node.tags
            if served_here or queried:
                node.self_us += jitter(rng, self.extra_ms * 1000, spread=0.1)


@dataclass(frozen=True)
class NPlusOneQueries:
    """`service` runs one query `repeat` times, one after the other, under its server span."""

    service: str = "inventory"
    statement: str = STOCK_QUERY
    repeat: int = 50
    per_query_us: float = 700.0
    ratio: float = 1.0

    def apply(self, root: SpanNode, rng: random.Random) -> None:
        for node in root.walk():
            if node.kind == "server" and node.service == self.service:
                queries = [
                    db_call(self.service, self.statement, self.per_query_us, rng)
                    for _ in range(self.repeat)
                ]
                node.stages = [[query] for query in queries] + [
                    stage for stage in node.stages if not _is_db_stage(stage)
                ]


@dataclass(frozen=True)
class SequentialCalls:
    """`service` makes its concurrent downstream calls one after the other."""

    service: str = "checkout"
    ratio: float = 1.0

    def apply(self, root: SpanNode, rng: random.Random) -> None:
        for node in root.walk():
            if node.kind == "server" and node.service == self.service:
                node.stages = [[child] for stage in node.stages for child in stage]


@dataclass(frozen=True)
class ErrorResponses:
    """`service` fails with `status_code`, logging the error; callers turn it into 502s."""

    service: str = "payments"
    status_code: int = 500
    error_object: str = "CardProcessorTimeout"
    message: str = "card processor did not answer within 2000ms"
    ratio: float = 1.0

    def apply(self, root: SpanNode, rng: random.Random) -> None:
        path = _path_to_server(root, self.service)
        for depth, node in enumerate(reversed(path)):
            status = self.status_code if depth < 2 else 502
            node.tags["http.status_code"] = status
            node.tags["error"] = True
            node.tags["otel.status_code"] = "ERROR"
        if path:
            failing = path[-1]
            failing.tags["otel.status_description"] = self.message
            failing.logs.append(
                SpanLog(
                    {"event": "error", "error.object": self.error_object, "message": self.message}
                )
            )


def generate_traces(
    *,
    count: int = 20,
    seed: int = 0,
    end_us: int | None = None,
    interval_us: int = 15_000_000,
    patterns: Sequence[TracePattern] = (),
) -> list[Json]:
    """`count` checkout traces spread evenly before `end_us` (default: now)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    end = end_us if end_us is not None else time.time_ns() // 1000
    processes: dict[str, ProcessInfo] = {service: process_for(service, rng) for service in SERVICES}
    traces: list[Json] = []
    for index in range(count):
        start = end - (count - index) * interval_us + rng.randint(0, interval_us // 3)
        root = checkout_tree(rng)
        for pattern in patterns:
            if rng.random() < pattern.ratio:
                pattern.apply(root, rng)
        lay_out(root, start, rng)
        trace_id = f"{rng.getrandbits(128) | 1:032x}"
        traces.append(to_jaeger_trace(root, trace_id, processes, rng))
    return traces


def _verb_and_table(statement: str) -> tuple[str, str]:
    words = statement.replace("(", " ").split()
    verb = words[0].upper()
    marker = {"SELECT": "FROM", "INSERT": "INTO", "DELETE": "FROM"}.get(verb)
    if marker and marker in words:
        return verb, words[words.index(marker) + 1]
    return verb, words[1] if len(words) > 1 else ""


def _is_db_stage(stage: list[SpanNode]) -> bool:
    return all("db.system" in node.tags for node in stage)


def _path_to_server(root: SpanNode, service: str) -> list[SpanNode]:
    """Spans from the root down to `service`'s server span (client spans included)."""
    if root.kind == "server" and root.service == service:
        return [root]
    for child in root.children():
        below = _path_to_server(child, service)
        if below:
            return [root, *below]
    return []
