"""Small synthetic recorded packs: a caller and a callee, fault-free then faulty."""

from __future__ import annotations

import random

from bot.investigation.recorded import FaultKind, LogRecord, RecordedPack, Sample, Span, Truth

BASE = (1_000.0, 1_300.0)
WINDOW = (1_400.0, 1_700.0)


def _period(
    rng: random.Random,
    start: float,
    end: float,
    *,
    callee_ms: float,
    failing: bool,
    prefix: str,
    wire_ms: float = 0.0,
    broken: bool = False,
) -> tuple[list[Span], list[LogRecord]]:
    spans: list[Span] = []
    logs: list[LogRecord] = []
    for i in range(120):
        t = start + (end - start) * i / 120
        trace = f"{prefix}{i:04x}"
        callee = round(callee_ms * rng.uniform(0.8, 1.2), 3)
        query = round(2 * rng.uniform(0.8, 1.2), 3)
        callee = round(callee + query + 0.5 + wire_ms, 3)
        spans.append(
            Span(
                trace,
                f"{trace}a",
                None,
                "web",
                "web-5d9f7c6b8d-x2k4q",
                "GET /",
                t,
                round(5 + callee + 3, 3),
            )
        )
        spans.append(
            Span(
                trace,
                f"{trace}b",
                f"{trace}a",
                "web",
                "web-5d9f7c6b8d-x2k4q",
                "HTTP GET",
                t + 0.001,
                round(callee + 1 + wire_ms, 3),
            )
        )
        spans.append(
            Span(
                trace,
                f"{trace}d",
                f"{trace}c",
                "stock",
                "stock-7c8b9d6f5c-a1b2c",
                "SELECT",
                t + 0.003,
                round(query + 0.5 + wire_ms, 3),
            )
        )
        spans.append(Span(trace, f"{trace}e", f"{trace}d", "db", "db-0", "query", t + 0.003, query))
        spans.append(
            Span(
                trace,
                f"{trace}c",
                f"{trace}b",
                "stock",
                "stock-7c8b9d6f5c-a1b2c",
                "GET /stock",
                t + 0.002,
                callee,
                error=failing,
            )
        )
        logs.append(
            LogRecord(
                t,
                "stock",
                "stock-7c8b9d6f5c-a1b2c",
                "INFO",
                f"INFO s.StockService#40 lookup item {i}",
                trace,
                f"{trace}c",
            )
        )
        if not broken:
            logs.append(
                LogRecord(
                    t,
                    "stock",
                    "stock-7c8b9d6f5c-a1b2c",
                    "INFO",
                    f"INFO s.StockService#52 item {i} has {i % 7} left",
                    trace,
                    f"{trace}c",
                )
            )
        if failing:
            logs.append(
                LogRecord(
                    t,
                    "stock",
                    "stock-7c8b9d6f5c-a1b2c",
                    "ERROR",
                    f"ERROR lookup failed: java.lang.IllegalStateException: item {i}",
                    trace,
                    f"{trace}c",
                )
            )
            logs.append(
                LogRecord(
                    t,
                    "web",
                    "web-5d9f7c6b8d-x2k4q",
                    "ERROR",
                    f"ERROR upstream stock answered 500 for request {i}",
                    trace,
                    f"{trace}a",
                )
            )
        else:
            logs.append(
                LogRecord(
                    t,
                    "web",
                    "web-5d9f7c6b8d-x2k4q",
                    "INFO",
                    f"INFO served request {i}",
                    trace,
                    f"{trace}a",
                )
            )
    return spans, logs


def pack(
    *,
    failing: bool = False,
    slow: bool = False,
    cpu: bool = False,
    wire: bool = False,
    broken: bool = False,
) -> RecordedPack:
    """web -> stock -> db; in the window ``stock`` fails, slows down, burns CPU, its
    network adds delay to every call in or out of it, or (``broken``) its handler stops
    halfway without a word (a log statement it always reached is no longer reached)."""
    rng = random.Random(7)
    base_spans, base_logs = _period(rng, *BASE, callee_ms=20, failing=False, prefix="b")
    now_spans, now_logs = _period(
        rng,
        *WINDOW,
        callee_ms=200 if slow else 20,
        failing=failing,
        prefix="f",  # trace ids are hex, as Jaeger requires
        wire_ms=100.0 if wire else 0.0,
        broken=broken,
    )
    samples = []
    for minute in range(40):
        t = 0.0 + minute * 60
        busy = cpu and t >= WINDOW[0]
        for pod in ("web-5d9f7c6b8d-x2k4q", "stock-7c8b9d6f5c-a1b2c"):
            level = 95.0 if busy and pod.startswith("stock") else 10.0 + rng.uniform(-1, 1)
            samples.append(Sample(t, pod, "CpuUsageRate(%)", level))
    kind: FaultKind = "error" if failing or broken else "latency" if slow or wire else "cpu"
    return RecordedPack(
        name="synthetic",
        source="test",
        window=WINDOW,
        baseline=BASE,
        spans=base_spans + now_spans,
        logs=base_logs + now_logs,
        samples=samples,
        entry_service="web",
        truth=Truth("stock", kind, "stock-7c8b9d6f5c-a1b2c"),
    )
