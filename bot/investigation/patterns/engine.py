"""The deterministic pattern engine: observe through the tools, apply every rule, and answer
with the most confident finding (the others become notes), plus the metric change points."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from bot.investigation.agent.blind_spots import blind_spots
from bot.investigation.agent.finding import Finding, MetricChange
from bot.investigation.agent.request import InvestigationRequest
from bot.investigation.patterns.base import Candidate, Rule, RuleContext
from bot.investigation.patterns.changepoints import change_point
from bot.investigation.patterns.health import healthy_summary, steady_notes
from bot.investigation.patterns.observe import Observations, Observer
from bot.investigation.patterns.rules_capacity import autoscaler_at_max, node_cpu_contention
from bot.investigation.patterns.rules_changed import changed_behaviour
from bot.investigation.patterns.rules_config import config_change
from bot.investigation.patterns.rules_egress import external_dependency
from bot.investigation.patterns.rules_load import caller_load, database_hog
from bot.investigation.patterns.rules_memory import heap_exhausted
from bot.investigation.patterns.rules_rate_limit import rate_limited_by_callee
from bot.investigation.patterns.rules_resources import (
    cpu_throttling,
    db_pool,
    node_problem,
    slow_dependency,
)
from bot.investigation.patterns.rules_signatures import log_signature
from bot.investigation.patterns.rules_storage import cert_expiry, disk_filling
from bot.investigation.patterns.rules_workloads import (
    bad_image,
    deploy_regression,
    failed_rollout,
    oom_kill,
)
from bot.investigation.patterns.signals import SIGNALS
from bot.investigation.service_graph import error_origins, failing_services, latency_origins
from tools.metrics.query_tools import RangeQueryData
from tools.metrics.series import SeriesSummary
from tools.toolbox import Toolbox

RULES: tuple[Rule, ...] = (
    oom_kill,
    heap_exhausted,
    bad_image,
    failed_rollout,
    config_change,
    deploy_regression,
    autoscaler_at_max,
    cpu_throttling,
    node_problem,
    node_cpu_contention,
    db_pool,
    cert_expiry,
    disk_filling,
    slow_dependency,
    external_dependency,
    caller_load,
    rate_limited_by_callee,
    database_hog,
    log_signature,
    changed_behaviour,
)
MAX_CHANGES = 8
HEALTH_EVIDENCE = (  # what a "nothing is wrong" answer cites, the figures it gives first
    "traces",
    "metric:latency_p95",
    "metric:error_ratio",
    "metric:request_rate",
    "top_errors",
    "baseline_errors",
    "pods",
)
RECENT_CHANGE = timedelta(hours=2)

CHECKED: dict[str, str] = {
    "oom_kill": "OOM kills",
    "heap_exhausted": "a process out of memory without an OOM kill",
    "bad_image": "an image that does not pull",
    "failed_rollout": "a stuck rollout",
    "config_change": "a ConfigMap change that the failing pods' errors point at",
    "deploy_regression": "a recent deploy",
    "autoscaler_at_max": "an autoscaler at its maximum",
    "cpu_throttling": "CPU throttling",
    "node_problem": "an unhealthy node",
    "node_cpu_contention": "CPU contention on a node",
    "db_pool": "database connection pool exhaustion",
    "cert_expiry": "an expiring certificate",
    "disk_filling": "a full disk",
    "slow_dependency": "a slow dependency",
    "external_dependency": "a slow dependency outside the cluster (named in the logs)",
    "caller_load": "a caller's release multiplying its calls into a dependency",
    "rate_limited_by_callee": "a callee answering its callers 429 since its own release",
    "database_hog": "one database client (any namespace) working far more than the others",
    "changed_behaviour": "a service whose own behaviour changed since the alert began",
}


MIN_SHIFT = {signal.name: signal.min_shift for signal in SIGNALS}
UNREPORTED = {signal.name for signal in SIGNALS if not signal.reported}


def metric_changes(ranges: dict[str, RangeQueryData]) -> list[MetricChange]:
    """Change points of every fetched series that moved by at least their signal's
    `min_shift` (a deviation worth naming, not only a statistically clear one), largest
    shift first."""
    changes: list[MetricChange] = []
    for name, data in ranges.items():
        if name in UNREPORTED:
            continue
        for series in data.series[:20]:
            found = _series_change(name, data.query, series)
            if found is not None and abs(found.after - found.before) >= MIN_SHIFT.get(name, 0):
                changes.append(found)
    changes.sort(key=lambda c: -c.score)
    return changes[:MAX_CHANGES]


def _series_change(signal: str, query: str, series: SeriesSummary) -> MetricChange | None:
    points = [(t, v) for t, v in series.values if math.isfinite(v)]
    found = change_point([v for _, v in points])
    if found is None:
        return None
    return MetricChange(
        query=query,
        series=signal if series.name in ("", "{}") else f"{signal} {series.name}",
        at=datetime.fromtimestamp(points[found.index][0], UTC),
        before=found.before,
        after=found.after,
        score=round(found.score, 1),
    )


def decide(
    obs: Observations, ctx: RuleContext, rules: tuple[Rule, ...] = RULES
) -> tuple[list[Candidate], list[MetricChange]]:
    """Pure: every rule's candidate, most confident first."""
    candidates = [c for c in (rule(obs, ctx) for rule in rules) if c is not None]
    candidates.sort(key=lambda c: -c.confidence)
    return candidates, list(ctx.changes)


def ruled_out(obs: Observations, ctx: RuleContext, rules: tuple[Rule, ...] = RULES) -> list[str]:
    """Pure: what each rule that found nothing checked for, in words. Nothing is "ruled out"
    when a tool call failed (the rule may have missed for lack of data); sources that are
    not configured at all are named in the finding's notes."""
    if obs.failed:
        return []
    names = [getattr(rule, "__name__", "") for rule in rules if rule(obs, ctx) is None]
    return [CHECKED.get(name, name.replace("_", " ")) for name in names if name]


def finding_from(
    obs: Observations,
    candidates: list[Candidate],
    changes: list[MetricChange],
    checked: list[str] | None = None,
    now: datetime | None = None,
    question: str | None = None,
) -> Finding:
    """The finding: the most confident candidate, the others as notes. Without a candidate,
    a `question` (not an incident) whose service shows no change is answered that the
    service is fine now, with the figures looked at (`bot.investigation.patterns.health`)."""
    notes = blind_spots(obs.failed) + [f"could not read {what}" for what in obs.unavailable]
    healthy = (
        healthy_summary(obs, question)
        if question is not None and not candidates and not changes and not obs.failed
        else None
    )
    if healthy is not None:
        return Finding(
            summary=healthy,
            root_cause=(
                "Nothing found wrong: no failure pattern matched, and no metric, trace or "
                "error log deviates from its usual level."
            ),
            confidence=0.7,
            evidence=obs.cite(*HEALTH_EVIDENCE)[:8],
            ruled_out=checked or [],
            notes=steady_notes(obs) + notes,
        )
    if not candidates:
        changed = "; ".join(f"{c.describe()} at {c.at:%H:%M}Z" for c in changes[:3])
        return Finding(
            summary="No known failure pattern matched"
            + (f"; metrics that changed: {changed}." if changed else "."),
            root_cause="Not determined by the pattern engine.",
            confidence=0.2 if changes else 0.05,
            evidence=[e for items in obs.evidence.values() for e in items][:8],
            changes=changes,
            ruled_out=checked or [],
            suspects=_suspects(obs, None),
            notes=notes,
        )
    best = candidates[0]
    now = now or datetime.now(UTC)
    # what the finding blames: its actions' targets, else the service it names first
    blamed = {p.target.name for p in best.actions} or set(best.suspects[:1])
    rejected = ruled_out_changes(obs, blamed, now)
    notes += [f"also seen ({c.rule}, {c.confidence:.0%}): {c.summary}" for c in candidates[1:]]
    suspects = best.suspects or _suspects(obs, next(iter(sorted(blamed)), obs.service))
    return Finding(
        summary=best.summary,
        root_cause=best.root_cause + "".join(f" Ruled out: {r}" for r in rejected),
        confidence=best.confidence,
        evidence=best.evidence,
        proposals=best.actions,
        recommendations=best.recommendations,
        changes=changes,
        ruled_out=checked or [],
        rule=best.rule,
        fault_kind=best.fault_kind or _localised_kind(obs, suspects),
        suspects=suspects,
        notes=notes,
    )


def _localised_kind(obs: Observations, suspects: list[str]) -> str | None:
    """The localisation's fault kind when it ran and ranks first the service named first."""
    found = obs.localised
    if found is None or not found.ranked or not suspects:
        return None
    return found.kind if found.ranked[0].service == suspects[0] else None


def _suspects(obs: Observations, named: str | None) -> list[str]:
    """The service the finding names first, then the localisation's ranking when it ran,
    else the focus's ranked suspects."""
    if obs.localised is not None and obs.localised.ranked:
        ranked = obs.localised.services
    else:
        ranked = [s.service for s in obs.suspects if s.score > 0]
    return list(dict.fromkeys(([named] if named else []) + ranked))[:5]


def ruled_out_changes(obs: Observations, blamed: set[str], now: datetime) -> list[str]:
    """Rollouts of other services near the incident, named and rejected with the reason:
    their own spans are healthy, they only pass on a callee's errors (no trace's deepest
    failing span is theirs), or the failure's origin lies elsewhere."""
    traces = obs.traces.traces if obs.traces else []
    failing = failing_services(traces)
    origins = set(error_origins(traces))
    slow = set(latency_origins(traces))
    waited = set(latency_origins(traces, peers=True))  # a leaf call's time is its peer's
    origin = next(iter(blamed), obs.service)
    reasons = []
    for event in obs.timeline:
        if now - event.at > RECENT_CHANGE:
            continue
        if event.service in blamed or event.service == origin:
            continue
        peers = sorted(waited - slow - {event.service})
        if event.service in slow and event.service not in origins | waited and peers:
            why = (
                f"but its slow spans are calls it waits on (into {', '.join(peers)}); "
                "its own work is not slower"
            )
        elif event.service in origins or event.service in slow:
            why = "but errors or latency start in its own spans too; it may contribute"
        elif event.service in failing:
            why = "but its spans fail only where they pass on a callee's failure"
        elif traces:
            why = "but its own spans are healthy"
        else:
            why = "but no signal points at it"
        reasons.append(
            f"{event.service} was also deployed (revision {event.revision} at "
            f"{event.at:%H:%M}Z) {why}; the evidence points at {origin}."
        )
    return reasons


class PatternEngine:
    def __init__(self, toolbox: Toolbox, default_namespace: str = "default") -> None:
        self.observer = Observer(toolbox)
        self.default_namespace = default_namespace

    def investigate(self, request: InvestigationRequest) -> Finding:
        obs = self.observer.observe(request, self.default_namespace)
        ctx = RuleContext(
            now=request.now,
            incident_id=request.incident_id,
            changes=tuple(metric_changes(obs.ranges)),
        )
        candidates, changes = decide(obs, ctx)
        question = None if request.alerts else request.question
        return finding_from(obs, candidates, changes, ruled_out(obs, ctx), request.now, question)
