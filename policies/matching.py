"""Does a rule's `match` hold for an action? Each miss comes back as a sentence for `explain`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from policies.actions import ActionKind, BlastRadius, ProposedAction
from policies.decision import EvaluationContext
from policies.schema import EXISTS, Match


@dataclass(frozen=True)
class Facts:
    """Everything matching looks at, gathered once from the action and its context."""

    kind: ActionKind
    namespace: str | None
    target_labels: Mapping[str, str] | None
    namespace_labels: Mapping[str, str] | None
    blast: BlastRadius
    confidence: float
    replicas: int | None
    hook: str | None


def facts_of(action: ProposedAction, context: EvaluationContext) -> Facts:
    """Labels read from the cluster (context) refine those carried on the target."""
    known = [
        labels for labels in (action.target.labels, context.target_labels) if labels is not None
    ]
    target_labels = (
        {key: value for labels in known for key, value in labels.items()} if known else None
    )
    return Facts(
        kind=action.kind,
        namespace=action.target.namespace,
        target_labels=target_labels,
        namespace_labels=context.namespace_labels,
        blast=action.blast_radius,
        confidence=action.confidence,
        replicas=action.requested_replicas,
        hook=action.hook,
    )


def namespace_matches(patterns: tuple[str, ...], namespace: str | None) -> bool:
    return namespace_mismatch(patterns, namespace) is None


def namespace_mismatch(patterns: tuple[str, ...], namespace: str | None) -> str | None:
    """Match if some positive pattern (or none is given) matches and no "!pattern" does."""
    if namespace is None:
        return "the target is cluster-scoped, so no namespace pattern can match it"
    for pattern in patterns:
        if pattern.startswith("!") and fnmatchcase(namespace, pattern[1:]):
            return f"namespace {namespace!r} is excluded by {pattern!r}"
    positive = [p for p in patterns if not p.startswith("!")]
    if positive and not any(fnmatchcase(namespace, p) for p in positive):
        return f"namespace {namespace!r} matches none of {', '.join(positive)}"
    return None


def _requirement_miss(
    key: str, requirement: str | tuple[str, ...], value: str | None
) -> str | None:
    """One selector entry: "v" equal, "!v" not equal (or absent), "*" present, [a, b] one of."""
    shown = f"{key} is absent" if value is None else f"{key}={value}"
    if isinstance(requirement, tuple):
        satisfied = value in requirement
        wanted = f"one of {key}={'|'.join(requirement)}"
    elif requirement == EXISTS:
        satisfied, wanted = value is not None, f"{key} present"
    elif requirement.startswith("!"):
        satisfied, wanted = value != requirement[1:], f"{key}!={requirement[1:]}"
    else:
        satisfied, wanted = value == requirement, f"{key}={requirement}"
    return None if satisfied else f"wants {wanted} but {shown}"


def selector_mismatch(
    selector: Mapping[str, str | tuple[str, ...]], labels: Mapping[str, str] | None, whose: str
) -> str | None:
    if not selector:
        return None
    if labels is None:
        return f"the {whose} labels are unknown"
    for key, requirement in selector.items():
        miss = _requirement_miss(key, requirement, labels.get(key))
        if miss is not None:
            return f"{whose} label selector {miss}"
    return None


def _bound_misses(match: Match, facts: Facts) -> list[str]:
    blast = facts.blast
    bounds = [
        (match.max_pods, blast.pods_affected, "pods affected", "max_pods"),
        (match.max_namespaces, blast.namespaces_touched, "namespaces touched", "max_namespaces"),
        (match.max_nodes, blast.nodes_touched, "nodes touched", "max_nodes"),
    ]
    misses = [
        f"{actual} {what} exceeds {key} {limit}"
        for limit, actual, what, key in bounds
        if limit is not None and actual > limit
    ]
    if match.max_share is not None and blast.workload_share > match.max_share:
        misses.append(
            f"{blast.workload_share:.0%} of the workload exceeds max_share {match.max_share:.0%}"
        )
    if match.min_confidence is not None and facts.confidence < match.min_confidence:
        misses.append(
            f"confidence {facts.confidence:.2f} is below min_confidence {match.min_confidence:.2f}"
        )
    # Replica bounds only concern actions that request a replica count (scale_deployment).
    if facts.replicas is not None:
        if match.max_replicas is not None and facts.replicas > match.max_replicas:
            misses.append(f"{facts.replicas} replicas exceeds max_replicas {match.max_replicas}")
        if match.min_replicas is not None and facts.replicas < match.min_replicas:
            misses.append(f"{facts.replicas} replicas is below min_replicas {match.min_replicas}")
    return misses


def mismatches(match: Match, facts: Facts) -> list[str]:
    """Why `match` does not hold for `facts`; an empty list means it matches."""
    misses: list[str] = []
    if match.kinds is not None and facts.kind not in match.kinds:
        misses.append(f"kind {facts.kind} is not one of {', '.join(match.kinds)}")
    if match.namespaces is not None:
        miss = namespace_mismatch(match.namespaces, facts.namespace)
        misses.extend([miss] if miss else [])
    for selector, labels, whose in (
        (match.target_labels, facts.target_labels, "target"),
        (match.namespace_labels, facts.namespace_labels, "namespace"),
    ):
        miss = selector_mismatch(selector or {}, labels, whose)
        misses.extend([miss] if miss else [])
    misses.extend(_bound_misses(match, facts))
    # Hook names only concern http_hook actions.
    if match.hooks is not None and facts.hook is not None and facts.hook not in match.hooks:
        misses.append(f"hook {facts.hook!r} is not one of {', '.join(match.hooks)}")
    return misses
