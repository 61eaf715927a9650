"""Shapes in a trace worth telling someone about: N+1 queries, serial fan-out, errors."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from typing import Any

from bot.analysis.traces.results import ErrorSpan, NPlusOne, SequentialCalls
from bot.analysis.traces.timing import span_ref
from bot.analysis.traces.tree import SpanNode, TraceTree

STATEMENT_TAGS = ("db.statement", "db.query.text", "sql.query")
TARGET_TAGS = ("peer.service", "server.address", "net.peer.name", "db.system")
MESSAGE_KEYS = (
    "error.message",
    "exception.message",
    "otel.status_description",
    "message",
    "error.object",
    "error.kind",
    "exception.type",
)

_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_NUMBER_LITERAL = re.compile(r"(?<![\w$])-?\d+(?:\.\d+)?\b")
_IN_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_SPACES = re.compile(r"\s+")


def normalise_statement(statement: str) -> str:
    """SQL with literals replaced by ``?`` and IN lists folded: ``id IN (?)``."""
    text = _STRING_LITERAL.sub("?", statement)
    text = _NUMBER_LITERAL.sub("?", text)
    text = _IN_LIST.sub("(?)", text)
    return _SPACES.sub(" ", text).strip()


def _statement(node: SpanNode) -> str | None:
    for key in STATEMENT_TAGS:
        value = node.span.tag(key)
        if isinstance(value, str) and value.strip():
            return normalise_statement(value)
    return None


def _sequential_ratio(nodes: list[SpanNode]) -> float:
    ordered = sorted(nodes, key=lambda n: (n.start, n.uid))
    pairs = list(itertools.pairwise(ordered))
    if not pairs:
        return 1.0
    return sum(b.start >= a.end for a, b in pairs) / len(pairs)


def n_plus_one(
    tree: TraceTree, *, min_repeats: int = 5, min_sequential_ratio: float = 0.7
) -> list[NPlusOne]:
    """Children of one parent repeating one operation (or one normalised statement)."""
    found: list[NPlusOne] = []
    for parent in tree.walk():
        groups: dict[tuple[str, str, str | None], list[SpanNode]] = defaultdict(list)
        for child in parent.children:
            groups[(child.service, child.operation, _statement(child))].append(child)
        for (service, operation, statement), nodes in groups.items():
            if len(nodes) < min_repeats:
                continue
            ratio = _sequential_ratio(nodes)
            if ratio < min_sequential_ratio:
                continue
            found.append(
                NPlusOne(
                    parent=span_ref(parent),
                    service=service,
                    operation=operation,
                    statement=statement,
                    count=len(nodes),
                    total_us=sum(n.duration for n in nodes),
                    sequential_ratio=ratio,
                )
            )
    return sorted(found, key=lambda f: (-f.total_us, f.parent.span_id, f.operation))


def call_target(node: SpanNode) -> str | None:
    """The remote service a span calls, when it is a call: a peer tag, or another service."""
    for key in TARGET_TAGS:
        value = node.span.tag(key)
        if isinstance(value, str) and value:
            return value
    if node.parent is not None and node.service != node.parent.service:
        return node.service
    remote = [c.service for c in node.children if c.service != node.service]
    return remote[0] if remote else None


def sequential_calls(
    tree: TraceTree, *, min_saving_us: int = 1_000, min_calls: int = 2
) -> list[SequentialCalls]:
    """Runs of sibling calls to distinct services, each starting after the previous ended.

    Siblings to different services with no overlap show no dependency in the trace, so
    running them side by side would cost only the longest one. (A data dependency the
    trace cannot show would make this wrong; the report says what could be saved.)
    """
    found: list[SequentialCalls] = []
    for parent in tree.walk():
        calls = [(c, t) for c in parent.children if (t := call_target(c)) is not None]
        run: list[tuple[SpanNode, str]] = []
        for call in [*calls, None]:
            extends = (
                call is not None
                and run
                and call[0].start >= run[-1][0].end
                and call[1] not in {t for _, t in run}
            )
            if extends:
                assert call is not None
                run.append(call)
                continue
            if len(run) >= min_calls:
                report = _serial_report(parent, run)
                if report.saving_us >= min_saving_us:
                    found.append(report)
            run = [call] if call is not None else []
    return sorted(found, key=lambda f: (-f.saving_us, f.parent.span_id))


def _serial_report(parent: SpanNode, run: list[tuple[SpanNode, str]]) -> SequentialCalls:
    nodes = [n for n, _ in run]
    total = nodes[-1].end - nodes[0].start
    longest = max(n.duration for n in nodes)
    return SequentialCalls(
        parent=span_ref(parent),
        calls=[span_ref(n) for n in nodes],
        targets=[t for _, t in run],
        total_us=total,
        parallel_us=longest,
        saving_us=max(total - longest, 0),
    )


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _status(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def error_spans(tree: TraceTree) -> list[ErrorSpan]:
    """Spans marked failed by ``error=true``, ``otel.status_code=ERROR`` or HTTP >= 500."""
    found: list[ErrorSpan] = []
    for node in tree.walk():
        span = node.span
        reasons: list[str] = []
        if _truthy(span.tag("error")):
            reasons.append("error=true")
        status_code = span.tag("otel.status_code")
        if isinstance(status_code, str) and status_code.upper() == "ERROR":
            reasons.append("otel.status_code=ERROR")
        for key in ("http.status_code", "http.response.status_code"):
            code = _status(span.tag(key))
            if code is not None and code >= 500:
                reasons.append(f"{key}={code}")
        if reasons:
            found.append(ErrorSpan(span=span_ref(node), reasons=reasons, message=_message(node)))
    return found


def _message(node: SpanNode) -> str | None:
    span = node.span
    for key in MESSAGE_KEYS:
        value = span.tag(key)
        if isinstance(value, str) and value:
            return value
    for log in span.logs:
        fields = {f.key: f.value for f in log.fields}
        for key in MESSAGE_KEYS:
            value = fields.get(key)
            if isinstance(value, str) and value:
                return value
    return None
