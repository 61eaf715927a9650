"""Per-service change signals of a fault window against its fault-free baseline.

Each signal answers "did this service's OWN behaviour change?", normalised by how often the
service was asked to work, so that a service that merely receives less (or more) traffic
because something upstream changed does not look changed itself:

* **logs**: the mix of log templates (mined by opsbot's miner) per operation invocation —
  templates that appeared, vanished or changed rate; error/warning templates that appeared;
* **calls**: which downstream operations an operation calls, per invocation (a service that
  returns early stops calling what it used to call);
* **latency**: self time per operation (its duration minus time spent in its children);
* **edges**: time on the wire between two services (a client span minus its server span);
* **errors**: error spans the service originates (no erroring child below them);
* **resources**: CPU, memory and network of its pods against their own history;
* **stopped**: a log statement that used to follow another one within the same span (or
  the span's start) no longer does: the code path broke between the two (an exception
  thrown, an early return). Conditional on the first statement, so load does not move it.

All functions here are pure: telemetry in, scores out.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.analysis.logmine import TemplateMiner
from bot.investigation.recorded import LogRecord, RecordedPack, Sample, Span

ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})
WARNING_LEVELS = frozenset({"WARNING"})
MIN_INVOCATIONS = 3
"""An operation needs this many invocations in both periods to be compared."""


@dataclass(frozen=True)
class Shift:
    """One thing that changed in a service, with its strength (a z-like score) and evidence."""

    service: str
    signal: str
    """``logs``, ``calls``, ``latency``, ``errors``, ``cpu``, ``memory`` or ``network``."""
    score: float
    what: str
    """What moved, in words (untrusted text from the telemetry inside)."""
    before: float
    after: float
    error_like: bool = False
    """The change is an error/warning template or error spans appearing."""
    traces: frozenset[str] = frozenset()
    """Trace ids of the fault window that show it (error-like shifts only)."""


@dataclass
class Periods:
    """The pack split into baseline and fault window, with lookups built once."""

    base_spans: list[Span]
    now_spans: list[Span]
    base_logs: list[LogRecord]
    now_logs: list[LogRecord]
    samples: list[Sample]
    window_start: float
    span_index: dict[str, Span] = field(default_factory=dict)

    @classmethod
    def of(cls, pack: RecordedPack) -> Periods:
        """Split ``pack`` by its windows."""
        (b0, b1), (w0, w1) = pack.baseline, pack.window
        periods = cls(
            base_spans=[s for s in pack.spans if b0 <= s.start <= b1],
            now_spans=[s for s in pack.spans if w0 <= s.start <= w1],
            base_logs=[r for r in pack.logs if b0 <= r.timestamp <= b1],
            now_logs=[r for r in pack.logs if w0 <= r.timestamp <= w1],
            samples=pack.samples,
            window_start=w0,
        )
        periods.span_index = {s.span_id: s for s in pack.spans}
        return periods


def _z(base: float, now: float, n_base: float, n_now: float) -> float:
    """How surprising ``now`` events in ``n_now`` trials are, given ``base`` in ``n_base``.

    Poisson counts; the variance includes the uncertainty of the baseline rate itself.
    """
    scale = n_now / n_base
    expected = base * scale
    variance = expected + base * scale * scale + 1.0
    return (now - expected) / math.sqrt(variance)


def _invocations(spans: Iterable[Span]) -> Counter[tuple[str, str]]:
    return Counter((s.service, s.operation) for s in spans)


def log_shifts(periods: Periods, miner: TemplateMiner | None = None) -> list[Shift]:
    """Templates whose rate per invocation of their operation changed."""
    miner = miner or TemplateMiner()
    counts: dict[tuple[str, str], list[Counter[int]]] = defaultdict(lambda: [Counter(), Counter()])
    traces: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    levels: dict[int, str] = {}
    per_service: list[Counter[str]] = [Counter(), Counter()]
    for period, logs in enumerate((periods.base_logs, periods.now_logs)):
        for record in logs:
            result = miner.add(record.message)
            if record.level in ERROR_LEVELS or levels.get(result.cluster_id) not in ERROR_LEVELS:
                levels[result.cluster_id] = record.level
            span = periods.span_index.get(record.span_id)
            op = span.operation if span is not None and span.service == record.service else ""
            counts[(record.service, op)][period][result.cluster_id] += 1
            if period == 1 and record.trace_id:
                traces[(record.service, op, result.cluster_id)].add(record.trace_id)
            per_service[period][record.service] += 1
    calls = [_invocations(periods.base_spans), _invocations(periods.now_spans)]
    service_calls: list[Counter[str]] = [Counter(), Counter()]
    for period in (0, 1):
        for (service, _), n in calls[period].items():
            service_calls[period][service] += n
    shifts = []
    for (service, op), (base, now) in counts.items():
        if op:
            n_base, n_now = calls[0][(service, op)], calls[1][(service, op)]
        else:
            n_base = service_calls[0][service] or per_service[0][service]
            n_now = service_calls[1][service] or per_service[1][service]
        if n_base < MIN_INVOCATIONS or n_now < MIN_INVOCATIONS:
            continue
        for cluster_id in set(base) | set(now):
            z = _z(base[cluster_id], now[cluster_id], n_base, n_now)
            cluster = miner.get(cluster_id)
            template = cluster.template if cluster else str(cluster_id)
            level = levels.get(cluster_id, "")
            error_like = z > 0 and (level in ERROR_LEVELS or level in WARNING_LEVELS)
            shifts.append(
                Shift(
                    service=service,
                    signal="logs",
                    score=abs(z),
                    what=f"{op or '(any operation)'}: {template}",
                    before=base[cluster_id] / n_base,
                    after=now[cluster_id] / n_now,
                    error_like=error_like,
                    traces=frozenset(traces[(service, op, cluster_id)])
                    if error_like
                    else frozenset(),
                )
            )
    return shifts


def _children(spans: list[Span]) -> dict[str, list[Span]]:
    kids: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        if span.parent_id:
            kids[span.parent_id].append(span)
    return kids


def call_shifts(periods: Periods) -> list[Shift]:
    """Downstream calls per invocation of each operation that changed."""
    rates: list[dict[tuple[str, str], Counter[tuple[str, str]]]] = []
    for spans in (periods.base_spans, periods.now_spans):
        kids = _children(spans)
        table: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
        for span in spans:
            for child in kids.get(span.span_id, ()):
                table[(span.service, span.operation)][(child.service, child.operation)] += 1
        rates.append(table)
    calls = [_invocations(periods.base_spans), _invocations(periods.now_spans)]
    shifts = []
    for key in set(rates[0]) | set(rates[1]):
        n_base, n_now = calls[0][key], calls[1][key]
        if n_base < MIN_INVOCATIONS or n_now < MIN_INVOCATIONS:
            continue
        base, now = rates[0].get(key, Counter()), rates[1].get(key, Counter())
        for callee in set(base) | set(now):
            z = _z(base[callee], now[callee], n_base, n_now)
            shifts.append(
                Shift(
                    service=key[0],
                    signal="calls",
                    score=abs(z),
                    what=f"{key[1]} -> {callee[0]} {callee[1]}",
                    before=base[callee] / n_base,
                    after=now[callee] / n_now,
                )
            )
    return shifts


def _remote_child(span: Span, kids: dict[str, list[Span]]) -> Span | None:
    """The one child of a client span (a span whose only child runs in another service)."""
    children = kids.get(span.span_id, ())
    if len(children) == 1 and children[0].service != span.service:
        return children[0]
    return None


def _self_times(spans: list[Span]) -> dict[tuple[str, str], list[float]]:
    """Own time per operation: duration minus children. A client span's own time (waiting
    for a connection, the wire) is its caller's; ``edge_shifts`` looks at it per edge too."""
    kids = _children(spans)
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    for span in spans:
        inner = sum(c.duration_ms for c in kids.get(span.span_id, ()))
        out[(span.service, span.operation)].append(max(span.duration_ms - inner, 0.0))
    return out


def _edge_times(spans: list[Span]) -> dict[tuple[str, str], list[float]]:
    """Per (caller, callee) service pair: client span time not spent in the server span."""
    kids = _children(spans)
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    for span in spans:
        child = _remote_child(span, kids)
        if child is not None:
            out[(span.service, child.service)].append(max(span.duration_ms - child.duration_ms, 0))
    return out


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _slower(before: list[float], after: list[float]) -> tuple[float, float, float]:
    """(score, before, after) of the larger of the p50 and p90 increases, 0 when none."""
    best = (0.0, 0.0, 0.0)
    if len(before) < MIN_INVOCATIONS or len(after) < MIN_INVOCATIONS:
        return best
    n = min(len(before), len(after))
    for q in (0.5, 0.9):
        b, a = _quantile(before, q), _quantile(after, q)
        floor = 1.0  # ms: below this, ratios are timer noise
        ratio = (a + floor) / (b + floor)
        if ratio > 1.0 and a - b > 5.0:
            score = math.log2(ratio) * math.sqrt(n)
            if score > best[0]:
                best = (score, b, a)
    return best


def latency_shifts(periods: Periods) -> list[Shift]:
    """Operations whose own (self) time grew: median and p90 against the baseline."""
    base, now = _self_times(periods.base_spans), _self_times(periods.now_spans)
    shifts = []
    for key, after in now.items():
        score, b, a = _slower(base.get(key, []), after)
        if score > 0:
            what = f"{key[1]} self time"
            shifts.append(Shift(key[0], "latency", score, what, b, a))
    return shifts


def edge_shifts(periods: Periods) -> list[Shift]:
    """Services whose calls (in and out) got slower on the wire.

    A delay on one service's network slows every edge that touches it, while each of its
    neighbours sees only the one edge they share: so each service scores the sum over its
    slowed edges, and the service common to them scores highest.
    """
    base, now = _edge_times(periods.base_spans), _edge_times(periods.now_spans)
    per_service: dict[str, list[tuple[float, str, float, float]]] = defaultdict(list)
    compared: Counter[str] = Counter()
    for edge, after in now.items():
        if len(base.get(edge, [])) < MIN_INVOCATIONS or len(after) < MIN_INVOCATIONS:
            continue
        compared.update(set(edge))
        score, b, a = _slower(base[edge], after)
        if score > 0:
            for service in set(edge):
                per_service[service].append((score, f"{edge[0]} -> {edge[1]}", b, a))
    shifts = []
    for service, edges in per_service.items():
        edges.sort(reverse=True)
        top = edges[0]
        share = len(edges) / compared[service]  # a delayed network slows all of its edges
        what = "network time of calls " + "; ".join(e[1] for e in edges[:3])
        score = sum(e[0] for e in edges) * share
        shifts.append(Shift(service, "edges", score, what, top[2], top[3]))
    return shifts


def _originated(
    spans: list[Span],
) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], set[str]]]:
    kids = _children(spans)
    own: Counter[tuple[str, str]] = Counter()
    where: dict[tuple[str, str], set[str]] = defaultdict(set)
    for span in spans:
        if span.error and not any(c.error for c in kids.get(span.span_id, ())):
            own[(span.service, span.operation)] += 1
            where[(span.service, span.operation)].add(span.trace_id)
    return own, where


def error_shifts(periods: Periods) -> list[Shift]:
    """Error spans a service originates (none of its children failed) per invocation."""
    base, _ = _originated(periods.base_spans)
    now, where = _originated(periods.now_spans)
    calls = [_invocations(periods.base_spans), _invocations(periods.now_spans)]
    shifts = []
    for key in now:
        n_base, n_now = max(calls[0][key], 1), calls[1][key]
        z = _z(base[key], now[key], n_base, n_now)
        if z > 0:
            shifts.append(
                Shift(
                    service=key[0],
                    signal="errors",
                    score=z,
                    what=f"{key[1]} error spans",
                    before=base[key] / n_base,
                    after=now[key] / n_now,
                    error_like=True,
                    traces=frozenset(where[key]),
                )
            )
    return shifts


_LOCATION = re.compile(
    r"\b[A-Za-z_$][\w$.]*(?:#\d+|\.(?:py|go|java|js|ts|rb|rs|cs|kt|scala|c|cc|cpp):\d+)\b"
)
"""A log line's source location (``pkg.Class#42``, ``file.py:42``), when it prints one."""
STOPPED_FOLLOW = 0.95
"""A statement followed its predecessor in this share of spans at least to count as a path."""
_START = "(span start)"


def _statements(
    logs: list[LogRecord], periods: Periods, miner: TemplateMiner
) -> dict[tuple[str, str], dict[str, set[str]]]:
    """Per (service, context) the statements each span logged, by span id.

    A statement is the source location the line prints, else its mined template. The
    context is the span's operation under its parent's operation in the same service, so
    one handler reached through two endpoints is two paths. Every span counts as having
    reached its own start.
    """
    out: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record in logs:
        span = periods.span_index.get(record.span_id)
        if span is None or span.service != record.service:
            continue
        found = _LOCATION.search(record.message)
        statement = found.group(0) if found else f"template {miner.add(record.message).cluster_id}"
        out[(span.service, _context(span, periods))][span.span_id].add(statement)
    return out


def _context(span: Span, periods: Periods) -> str:
    parent = periods.span_index.get(span.parent_id or "")
    if parent is not None and parent.service == span.service:
        return f"{parent.operation} > {span.operation}"
    return span.operation


def _g_score(k_base: int, n_base: int, k_now: int, n_now: int) -> float:
    """Signed root of the likelihood-ratio (G) statistic of two binomial shares (>0: dropped)."""

    def ll(k: int, n: int, p: float) -> float:
        p = min(max(p, 1e-9), 1 - 1e-9)
        return k * math.log(p) + (n - k) * math.log(1 - p)

    pooled = (k_base + k_now) / (n_base + n_now)
    g = 2 * (
        ll(k_base, n_base, k_base / n_base)
        + ll(k_now, n_now, k_now / n_now)
        - ll(k_base, n_base, pooled)
        - ll(k_now, n_now, pooled)
    )
    sign = 1.0 if k_now / n_now < k_base / n_base else -1.0
    return sign * math.sqrt(max(g, 0.0))


def stopped_shifts(periods: Periods, miner: TemplateMiner | None = None) -> list[Shift]:
    """Statements that stopped following the one before them within the same spans.

    In the baseline, statement B followed statement A (or the span's start) in at least
    ``STOPPED_FOLLOW`` of the spans that reached A; in the window it follows less often.
    The score is the signed likelihood-ratio statistic of the two shares, so it grows with
    how many spans reached A and then stopped.
    """
    miner = miner or TemplateMiner()
    base = _statements(periods.base_logs, periods, miner)
    spans_of: list[dict[tuple[str, str], set[str]]] = [defaultdict(set), defaultdict(set)]
    for period, spans in enumerate((periods.base_spans, periods.now_spans)):
        for span in spans:
            spans_of[period][(span.service, _context(span, periods))].add(span.span_id)
    now = _statements(periods.now_logs, periods, miner)
    best: dict[tuple[str, str, str], Shift] = {}
    for key, by_span in base.items():
        reached = [
            _reached(by_span, spans_of[0][key]),
            _reached(now.get(key, {}), spans_of[1][key]),
        ]
        for first, spans_a in reached[0].items():
            if len(spans_a) < MIN_INVOCATIONS or len(reached[1].get(first, ())) < MIN_INVOCATIONS:
                continue
            now_a = reached[1][first]
            for then, spans_b in reached[0].items():
                if then in (first, _START):
                    continue
                k_base = len(spans_a & spans_b)
                if k_base < STOPPED_FOLLOW * len(spans_a) or len(spans_b) > len(spans_a):
                    continue
                k_now = len(now_a & reached[1].get(then, set()))
                score = _g_score(k_base, len(spans_a), k_now, len(now_a))
                if score <= 0:
                    continue
                shift = Shift(
                    service=key[0],
                    signal="stopped",
                    score=score,
                    what=f"{key[1]}: {then} no longer follows {first}",
                    before=k_base / len(spans_a),
                    after=k_now / len(now_a),
                    traces=frozenset(
                        periods.span_index[sid].trace_id
                        for sid in now_a - reached[1].get(then, set())
                    ),
                )
                slot = (key[0], key[1], then)
                if slot not in best or shift.score > best[slot].score:
                    best[slot] = shift
    return list(best.values())


def _reached(by_span: dict[str, set[str]], spans: set[str]) -> dict[str, set[str]]:
    """Statement -> the spans that logged it; every span reached ``_START``."""
    out: dict[str, set[str]] = defaultdict(set)
    out[_START] = set(spans)
    for span_id, statements in by_span.items():
        for statement in statements:
            out[statement].add(span_id)
    return out


RESOURCE_WORDS: tuple[tuple[str, str], ...] = (
    ("cpu", "cpu"),
    ("memory", "memory"),
    ("network", "network"),
    ("mem", "memory"),
)


def resource_kind(metric: str) -> str | None:
    """``cpu``/``memory``/``network`` for a pod-level resource metric name, else None."""
    lowered = metric.lower()
    if lowered.startswith("node"):
        return None
    return next((kind for word, kind in RESOURCE_WORDS if word in lowered), None)


def resource_shifts(
    periods: Periods, service_of_pod: dict[str, str], min_history: int = 5
) -> list[Shift]:
    """Pod resource metrics whose sustained fault-window level leaves their own history."""
    series: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for sample in periods.samples:
        if sample.pod in service_of_pod and resource_kind(sample.metric):
            series[(sample.pod, sample.metric)].append(sample)
    shifts = []
    for (pod, metric), samples in series.items():
        stamps = sorted(s.timestamp for s in samples)
        step = (
            statistics.median(b - a for a, b in itertools.pairwise(stamps))
            if len(stamps) > 1
            else 0
        )
        # A sample summarises the step before it: it speaks for the window once most of
        # that step lies inside the window.
        settled = periods.window_start + step / 2
        before = [s.value for s in samples if s.timestamp < periods.window_start]
        after = [s.value for s in samples if s.timestamp >= settled]
        if len(before) < min_history or not after:
            continue
        centre = statistics.median(before)
        spread = statistics.median(abs(v - centre) for v in before) * 1.4826
        spread = max(spread, 0.05 * abs(centre), 1e-9)
        level = min(after)  # sustained: every sample of the window is above
        z = (level - centre) / spread
        if z > 0:
            kind = resource_kind(metric) or "cpu"
            shifts.append(
                Shift(
                    service=service_of_pod[pod],
                    signal=kind,
                    score=z,
                    what=f"{pod} {metric}",
                    before=centre,
                    after=level,
                )
            )
    return shifts
