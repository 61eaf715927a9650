"""A scripted model that diagnoses load from elsewhere by reading tool results, the way the
system prompt tells a model to: it never sees a pack's expected answer, only the opening
message (the alert's labels) and what each tool returned.

Each turn looks at every tool result of the conversation so far and decides the next step:

1. The alerted service's call graph, the namespace's change timeline, and the database
   clients' longest transactions now and an hour ago (postgres_exporter's per-user series).
2. For each caller in the graph, its calls into the service per caller request, now and an
   hour ago; for a database client whose longest transaction grew many times over, the
   workloads that connect to that database (k8s_service_clients).
3. The rollouts of the workload that client is (its own namespace: batch jobs live
   elsewhere).
4. Submit: roll back the caller whose calls per request grew after its rollout, or the
   database client whose transactions grew after its rollout; every other rollout seen is
   ruled out. Without either, no action and a low confidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox.claude.policy import scope_of
from sandbox.claude.recording import RecordedRequest, block_text, content_blocks
from sandbox.claude.script import Reply, ToolCall

CALLS_GREW = 1.5  # calls per caller request now over an hour ago
TX_GREW = 5.0  # a client's longest transaction now over an hour ago
TX_LONG = 10.0  # seconds: a transaction this long holds what others wait for
_CALLER = re.compile(r"^- (\S+) -> (\S+): \d+ calls", re.MULTILINE)
_SAMPLE = re.compile(r"^- (?:\w*)\{(?P<labels>[^}]*)\}: (?P<value>[-\d.e+]+)$", re.MULTILINE)
_LABEL = re.compile(r'(\w+)="([^"]*)"')
_ROLLOUT = re.compile(
    r"^- (?P<at>\S+) rollout Deployment/(?P<name>\S+): revision (?P<rev>\d+): (?P<what>.*)$",
    re.MULTILINE,
)
_CLIENT = re.compile(r"^- Deployment (?P<ns>[\w-]+)/(?P<name>[\w-]+) \((?P<detail>[^)]*)\)", re.M)
TX_QUERY = (
    "max by (namespace, service, usename, application_name) "
    '(pg_stat_activity_max_tx_duration{{state="active"}}{offset})'
)


@dataclass(frozen=True)
class Seen:
    """One tool call of the conversation and the text its result returned."""

    id: str
    name: str
    input: dict[str, Any]
    text: str


def seen(request: RecordedRequest) -> list[Seen]:
    """Every tool call so far with its result's text."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    results: dict[str, str] = {}
    for message in request.messages:
        for block in content_blocks(message):
            if block.get("type") == "tool_use":
                calls[str(block.get("id"))] = (
                    str(block.get("name")),
                    dict(block.get("input") or {}),
                )
            elif block.get("type") == "tool_result":
                results[str(block.get("tool_use_id"))] = block_text([block])
    return [Seen(i, *calls[i], results[i]) for i in calls if i in results]


def _one(found: list[Seen], name: str, **match: Any) -> Seen | None:
    return next(
        (s for s in found if s.name == name and all(s.input.get(k) == v for k, v in match.items())),
        None,
    )


def _samples(text: str) -> list[tuple[dict[str, str], float]]:
    return [
        (dict(_LABEL.findall(m.group("labels"))), float(m.group("value")))
        for m in _SAMPLE.finditer(text)
    ]


def _ratio_query(namespace: str, service: str, caller: str, offset: str) -> str:
    def rate(name: str) -> str:
        selector = f'namespace="{namespace}",service="{name}"'
        return f"sum(rate(http_requests_total{{{selector}}}[5m]{offset}))"

    return f"{rate(service)} / {rate(caller)}"


def _value(found: Seen | None) -> float | None:
    samples = _samples(found.text) if found else []
    return samples[0][1] if samples else None


def _rollouts(found: list[Seen]) -> dict[str, tuple[str, str, str]]:
    """Deployment name -> (namespace, revision, what changed) from every timeline read."""
    rollouts = {}
    for item in found:
        if item.name == "change_timeline":
            for m in _ROLLOUT.finditer(item.text):
                rollouts[m.group("name")] = (
                    str(item.input.get("namespace")),
                    m.group("rev"),
                    m.group("what"),
                )
    return rollouts


def _grown_caller(
    found: list[Seen], namespace: str, service: str
) -> tuple[str, float, float] | None:
    graph = _one(found, "service_graph", service=service)
    callers = [c for c, callee in _CALLER.findall(graph.text if graph else "") if callee == service]
    for caller in callers:
        now = _value(
            _one(found, "prometheus_query", query=_ratio_query(namespace, service, caller, ""))
        )
        before = _value(
            _one(
                found,
                "prometheus_query",
                query=_ratio_query(namespace, service, caller, " offset 1h"),
            )
        )
        if now and before and now >= CALLS_GREW * before:
            return caller, before, now
    return None


def _db_hog(found: list[Seen]) -> tuple[dict[str, str], float, float] | None:
    now = _one(found, "prometheus_query", query=TX_QUERY.format(offset=""))
    before = _one(found, "prometheus_query", query=TX_QUERY.format(offset=" offset 1h"))
    earlier = {
        (labels.get("usename"), labels.get("application_name")): value
        for labels, value in (_samples(before.text) if before else [])
    }
    for labels, value in sorted(_samples(now.text) if now else [], key=lambda s: -s[1]):
        was = earlier.get((labels.get("usename"), labels.get("application_name")))
        if value >= TX_LONG and was is not None and value >= TX_GREW * max(was, 1e-3):
            return labels, was, value
    return None


def _workload_of(found: list[Seen], user: str) -> tuple[str, str] | None:
    for item in found:
        if item.name == "k8s_service_clients":
            for m in _CLIENT.finditer(item.text):
                if f"user {user};" in m.group("detail") or m.group("name") == user:
                    return m.group("ns"), m.group("name")
    return None


def reason(request: RecordedRequest) -> Reply:
    """One turn of the policy, decided from the tool results so far (module docstring)."""
    scope = scope_of(request)
    namespace, service = scope.namespace, scope.service or ""
    found = seen(request)
    if not found:
        return Reply(
            text=f"Who calls {service}, what changed in {namespace}, and the database clients.",
            tool_calls=(
                ToolCall("service_graph", {"service": service, "lookback": "1h"}),
                ToolCall("change_timeline", {"namespace": namespace, "lookback": "2h"}),
                ToolCall("prometheus_query", {"query": TX_QUERY.format(offset="")}),
                ToolCall("prometheus_query", {"query": TX_QUERY.format(offset=" offset 1h")}),
            ),
        )
    asked = {(s.name, str(sorted(s.input.items()))) for s in found}
    wanted: list[ToolCall] = []
    graph = _one(found, "service_graph", service=service)
    for caller, callee in _CALLER.findall(graph.text if graph else ""):
        if callee != service:
            continue
        for offset in ("", " offset 1h"):
            wanted.append(
                ToolCall(
                    "prometheus_query", {"query": _ratio_query(namespace, service, caller, offset)}
                )
            )
    hog = _db_hog(found)
    if hog is not None:
        labels = hog[0]
        wanted.append(
            ToolCall(
                "k8s_service_clients",
                {
                    "namespace": labels.get("namespace", namespace),
                    "service": labels.get("service", ""),
                },
            )
        )
        workload = _workload_of(found, labels.get("usename", ""))
        if workload is not None and workload[0] != namespace:
            wanted.append(ToolCall("change_timeline", {"namespace": workload[0], "lookback": "2h"}))
    fresh = tuple(c for c in wanted if (c.name, str(sorted(dict(c.input).items()))) not in asked)
    if fresh:
        return Reply(text="Comparing now with an hour ago.", tool_calls=fresh)
    return Reply(tool_calls=(ToolCall("submit_finding", conclude(found, namespace, service)),))


def conclude(found: list[Seen], namespace: str, service: str) -> dict[str, Any]:
    """The finding the tool results support (module docstring, step 4)."""
    rollouts = _rollouts(found)
    evidence = [s.id for s in found]
    caller = _grown_caller(found, namespace, service)
    hog = _db_hog(found)
    culprit: tuple[str, str, str] | None = None
    if caller is not None and caller[0] in rollouts:
        name, before, now = caller
        where, rev, what = rollouts[name]
        culprit = (
            where,
            name,
            f"{name} revision {rev} ({what}) makes {now / before:.1f}x as many calls into "
            f"{service} per {name} request ({before:.2f} an hour ago, {now:.2f} now); "
            f"{service} sheds the extra load",
        )
    elif hog is not None:
        labels, before, now = hog
        workload = _workload_of(found, labels.get("usename", ""))
        if workload is not None and workload[1] in rollouts:
            where, name = workload
            _, rev, what = rollouts[name]
            culprit = (
                where,
                name,
                f"{name} revision {rev} ({what}) holds transactions on the "
                f"{labels.get('service')} database for {now:.0f}s as user "
                f"{labels.get('usename')} ({before:.1f}s an hour ago); the database's work "
                f"goes to it and {service}'s queries wait",
            )
    if culprit is None:
        return {
            "summary": f"No caller or database client of {service} changed its load.",
            "root_cause": "Not determined from the tool results.",
            "confidence": 0.3,
            "evidence": evidence,
            "ruled_out": [
                "a caller's release multiplying its calls",
                "a database client's release",
            ],
        }
    where, name, why = culprit
    others = [other for other in rollouts if other != name]
    return {
        "summary": f"{name}'s release puts the load on {service}: {why}.",
        "root_cause": why + ".",
        "confidence": 0.75,
        "evidence": evidence,
        "proposed_actions": [
            {
                "kind": "rollback_deployment",
                "target": {"namespace": where, "name": name},
                "reason": f"the load began with {name}'s rollout",
            }
        ],
        "ruled_out": [
            f"{other} rollout: not what changed the load on {service}" for other in others
        ],
    }
