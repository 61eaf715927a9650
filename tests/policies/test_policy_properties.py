"""Properties over many generated inputs (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from itertools import combinations, product
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import (
    MAX_SCALE_REPLICAS,
    ActionKind,
    BlastRadius,
    Disposition,
    EvaluationContext,
    Match,
    Mode,
    Policy,
    ProposedAction,
    ResourceKind,
    ResourceRef,
    Verdict,
    evaluate,
    explain,
    load_policy,
)
from policies.actions import PARAMS_MODEL, TARGET_KINDS
from policies.checker import covers
from policies.matching import Facts, mismatches
from policies.windows import WeeklyWindow

SITE = """
defaults: {approvers: [S0ONCALL]}
mode_overrides: [{namespaces: ["lab-*"], mode: shadow}]
freezes:
  - name: weekend
    timezone: Europe/Berlin
    weekly: [{start: "fri 16:00", end: "mon 08:00"}]
    match: {namespaces: ["prod*"]}
"""
DNS_LABEL = r"[a-z]([a-z0-9-]{0,20}[a-z0-9])?"
LABELS = st.dictionaries(
    st.sampled_from(["tier", "app", "environment"]), st.sampled_from(["web", "prod", "staging"])
)


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    site: Path = tmp_path_factory.mktemp("policy") / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    return load_policy([site])


def params_for(kind: ActionKind) -> st.SearchStrategy[dict[str, Any]]:
    model = PARAMS_MODEL[kind].__name__
    optional_int = st.none() | st.integers(0, MAX_SCALE_REPLICAS)
    by_model: dict[str, st.SearchStrategy[dict[str, Any]]] = {
        "ScaleParams": st.fixed_dictionaries(
            {"replicas": st.integers(0, MAX_SCALE_REPLICAS), "previous_replicas": optional_int}
        ),
        "DeletePodParams": st.fixed_dictionaries(
            {"grace_period_seconds": st.none() | st.integers(0, 60)}
        ),
        "RollbackParams": st.fixed_dictionaries({"to_revision": st.none() | st.integers(1, 99)}),
        "HttpHookParams": st.fixed_dictionaries({"hook": st.from_regex(DNS_LABEL, fullmatch=True)}),
        "ExpandVolumeParams": st.fixed_dictionaries({"new_size": st.sampled_from(["20Gi", "1Ti"])}),
        "SetResourcesParams": st.fixed_dictionaries(
            {
                "container": st.just("app"),
                "cpu_request": st.sampled_from([None, "50m", "1"]),
                "memory_limit": st.sampled_from([None, "192Mi", "1Gi"]),
                "previous_memory_limit": st.sampled_from([None, "512Mi"]),
            }
        ),
    }
    return by_model.get(model, st.just({}))


@st.composite
def actions(draw: st.DrawFn) -> ProposedAction:
    kind = draw(st.sampled_from(list(ActionKind)))
    target_kind = draw(st.sampled_from(sorted(TARGET_KINDS[kind])))
    namespace = None
    if target_kind is not ResourceKind.NODE:
        namespace = draw(
            st.sampled_from(["dev", "staging", "prod", "prod-eu", "kube-system", "lab-1"])
            | st.from_regex(DNS_LABEL, fullmatch=True)
        )
    return ProposedAction.model_validate(
        {
            "id": "a-1",
            "kind": kind,
            "target": ResourceRef(
                kind=target_kind,
                namespace=namespace,
                name=draw(st.from_regex(DNS_LABEL, fullmatch=True)),
                labels=draw(st.none() | LABELS),
            ),
            "params": draw(params_for(kind)),
            "proposer": draw(st.sampled_from(["agent", "U0ALICE"])),
            "confidence": draw(st.floats(0, 1)),
            "blast_radius": BlastRadius(
                pods_affected=draw(st.integers(0, 500)),
                replicas_affected=draw(st.integers(0, 500)),
                workload_share=draw(st.floats(0, 1)),
                namespaces_touched=draw(st.integers(0, 5)),
                nodes_touched=draw(st.integers(0, 5)),
            ),
        }
    )


contexts = st.builds(
    EvaluationContext,
    now=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]
        ),
    ),
    namespace_labels=st.none() | LABELS,
    target_labels=st.none() | LABELS,
    declared_freeze=st.none() | st.just("release"),
)


@settings(max_examples=300, deadline=None, database=None)
@given(action=actions(), context=contexts)
def test_evaluate_is_total_and_its_decisions_are_consistent(
    policy: Policy, action: ProposedAction, context: EvaluationContext
) -> None:
    decision = evaluate(action, context, policy)
    if decision.execute_now:
        assert (decision.verdict, decision.mode) == (Verdict.SAFE, Mode.AUTONOMOUS)
    if decision.mode is Mode.SHADOW:
        assert decision.disposition is Disposition.LOG_ONLY
    if decision.verdict is Verdict.FORBIDDEN:
        assert decision.approvals_required == 0
        assert decision.disposition in (Disposition.REFUSE, Disposition.LOG_ONLY)
    if decision.needs_approval:
        assert decision.approvers
        assert decision.approvals_required >= 1
    if action.target.namespace == "kube-system":
        assert decision.verdict is Verdict.FORBIDDEN
    if action.confidence < policy.confidence_floor or context.declared_freeze:
        assert decision.verdict is not Verdict.SAFE
    assert f"Verdict: {decision.verdict} (rule {decision.rule})" in explain(action, context, policy)


NEUTRAL = Facts(
    kind=ActionKind.RESTART_DEPLOYMENT,
    namespace="prod",
    target_labels={},
    namespace_labels=None,
    blast=BlastRadius(pods_affected=1, workload_share=0.1),
    confidence=1.0,
    replicas=None,
    hook=None,
)
PATTERNS = ["prod", "prod-*", "prod-eu", "prod-?", "!prod-eu", "*", "!staging", "staging", "st*"]
REQUIREMENTS: list[str | tuple[str, ...]] = ["web", "api", "*", "!web", ("web", "api"), ("api",)]
LABEL_VALUES = [None, "web", "api", "db"]


def _lists(items: list[Any], up_to: int) -> list[Any]:
    return [None] + [list(c) for n in range(1, up_to + 1) for c in combinations(items, n)]


def _selectors() -> list[Any]:
    singles = [{key: r} for key in ("tier", "app") for r in REQUIREMENTS]
    pairs = [{"tier": a, "app": b} for a, b in product(REQUIREMENTS, repeat=2)]
    return [None, *singles, *pairs]


def _label_sets() -> list[dict[str, str] | None]:
    sets = [
        {k: v for k, v in (("tier", tier), ("app", app)) if v is not None}
        for tier, app in product(LABEL_VALUES, repeat=2)
    ]
    return [None, *sets]


scale, hook = ActionKind.SCALE_DEPLOYMENT, ActionKind.HTTP_HOOK
DIMENSIONS: dict[str, tuple[list[Any], list[Facts]]] = {
    "namespaces": (
        _lists(PATTERNS, 3),
        [
            replace(NEUTRAL, namespace=n)
            for n in ["prod", "prod-eu", "prod-x", "staging", "dev", None]
        ],
    ),
    "target_labels": (
        _selectors(),
        [replace(NEUTRAL, target_labels=labels) for labels in _label_sets()],
    ),
    "kinds": (
        _lists([ActionKind.RESTART_DEPLOYMENT, scale, hook], 3),
        [replace(NEUTRAL, kind=k) for k in (ActionKind.RESTART_DEPLOYMENT, scale, hook)],
    ),
    "max_pods": (
        [None, 0, 1, 3],
        [replace(NEUTRAL, blast=BlastRadius(pods_affected=p, workload_share=0)) for p in range(5)],
    ),
    "min_confidence": (
        [None, 0.5, 0.8, 0.9],
        [replace(NEUTRAL, confidence=c) for c in (0.4, 0.5, 0.8, 0.85, 0.9, 1.0)],
    ),
    "max_replicas": (
        [None, 1, 3],
        [NEUTRAL, *(replace(NEUTRAL, kind=scale, replicas=r) for r in range(5))],
    ),
    "hooks": (
        _lists(["a", "b"], 2),
        [NEUTRAL, *(replace(NEUTRAL, kind=hook, hook=h) for h in ("a", "b", "c"))],
    ),
}


@pytest.mark.parametrize("field", sorted(DIMENSIONS))
def test_a_rule_reported_as_shadowing_another_matches_everything_the_other_matches(
    field: str,
) -> None:
    """Exhaustive over a small vocabulary, one criterion at a time (`covers` is per criterion)."""
    values, samples = DIMENSIONS[field]
    matches = [Match.model_validate({field: value}) for value in values]
    for broad, narrow in product(matches, repeat=2):
        if covers(broad, narrow):
            for fact in samples:
                assert mismatches(broad, fact) == [] or mismatches(narrow, fact) != [], (
                    broad,
                    narrow,
                    fact,
                )


@settings(max_examples=300, deadline=None, database=None)
@given(
    start=st.integers(0, 24 * 60 - 1),
    end=st.integers(0, 24 * 60 - 1),
    moment=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 1, 1)),
)
def test_daily_window_contains_exactly_the_minutes_between_start_and_end(
    start: int, end: int, moment: datetime
) -> None:
    if start == end:
        return
    window = WeeklyWindow(
        start=f"{start // 60:02d}:{start % 60:02d}", end=f"{end // 60:02d}:{end % 60:02d}"
    )
    minute = moment.hour * 60 + moment.minute
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    assert window.contains(moment) is inside
