"""`opsbot policy check`: schema problems per file, then mistakes only the merged policy shows."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from pathlib import Path

from policies.actions import USERGROUP_ID
from policies.decision import Verdict
from policies.errors import PolicyProblem
from policies.loader import merge_policy_files, parse_policy_file, policy_paths
from policies.schema import EXISTS, Freeze, Match, Policy, Rule, SourceLocation

_WILDCARDS = frozenset("*?[")


def _covers_items(broad: tuple[str, ...] | None, narrow: tuple[str, ...] | None) -> bool:
    return broad is None or (narrow is not None and set(narrow) <= set(broad))


def _covers_max(broad: float | None, narrow: float | None) -> bool:
    return broad is None or (narrow is not None and narrow <= broad)


def _covers_min(broad: float | None, narrow: float | None) -> bool:
    return broad is None or (narrow is not None and narrow >= broad)


def _pattern_covers(broad: str, narrow: str) -> bool:
    if broad == narrow:
        return True
    return not (_WILDCARDS & set(narrow)) and fnmatchcase(narrow, broad)


def _covers_namespaces(broad: tuple[str, ...] | None, narrow: tuple[str, ...] | None) -> bool:
    """Conservative: True only when every namespace `narrow` admits is admitted by `broad`."""
    if broad is None:
        return True
    if narrow is None:
        return False
    broad_pos = [p for p in broad if not p.startswith("!")]
    narrow_pos = [p for p in narrow if not p.startswith("!")]
    excluded_by_narrow = {p for p in narrow if p.startswith("!")}
    if not all(p in excluded_by_narrow for p in broad if p.startswith("!")):
        return False
    if not broad_pos:
        return True
    return bool(narrow_pos) and all(
        any(_pattern_covers(b, n) for b in broad_pos) for n in narrow_pos
    )


def _covers_selector(
    broad: dict[str, str | tuple[str, ...]] | None, narrow: dict[str, str | tuple[str, ...]] | None
) -> bool:
    narrow = narrow or {}
    for key, wanted in (broad or {}).items():
        have = narrow.get(key)
        if have is None:
            return False
        positive = isinstance(have, tuple) or not have.startswith("!")
        admitted = set(have) if isinstance(have, tuple) else {have}
        if wanted == have or (wanted == EXISTS and positive):
            continue
        if isinstance(wanted, tuple) and positive and admitted <= set(wanted) - {EXISTS}:
            continue
        return False
    return True


def covers(broad: Match, narrow: Match) -> bool:
    """Does every action `narrow` matches also match `broad`? (False when unsure.)"""
    return all(
        [
            _covers_items(broad.kinds, narrow.kinds),
            _covers_namespaces(broad.namespaces, narrow.namespaces),
            _covers_selector(broad.target_labels, narrow.target_labels),
            _covers_selector(broad.namespace_labels, narrow.namespace_labels),
            _covers_max(broad.max_pods, narrow.max_pods),
            _covers_max(broad.max_share, narrow.max_share),
            _covers_max(broad.max_namespaces, narrow.max_namespaces),
            _covers_max(broad.max_nodes, narrow.max_nodes),
            _covers_max(broad.max_replicas, narrow.max_replicas),
            _covers_min(broad.min_replicas, narrow.min_replicas),
            _covers_min(broad.min_confidence, narrow.min_confidence),
            _covers_items(broad.hooks, narrow.hooks),
        ]
    )


def _problem(where: SourceLocation | None, message: str, *, warning: bool = False) -> PolicyProblem:
    file, line = (where.file, where.line) if where is not None else ("<merged policy>", None)
    return PolicyProblem(file, line, message, severity="warning" if warning else "error")


def _unreachable(policy: Policy) -> list[PolicyProblem]:
    problems = []
    enabled = [rule for rule in policy.rules if rule.enabled]
    for index, rule in enumerate(enabled):
        shadow = next((e for e in enabled[:index] if covers(e.match, rule.match)), None)
        if shadow is not None:
            problems.append(
                _problem(
                    policy.source_of(f"rules/{rule.name}"),
                    f"rule {rule.name!r} is unreachable: earlier rule {shadow.name!r} "
                    f"({policy.source_of(f'rules/{shadow.name}') or 'in code'}) "
                    "matches everything it matches",
                    warning=True,
                )
            )
    return problems


def _approval_count(policy: Policy, outcome: Rule | Freeze, label: str) -> list[PolicyProblem]:
    """More approvals required than named users can give (usergroups can always grow)."""
    approvers = outcome.approvers if outcome.approvers is not None else policy.defaults.approvers
    required = outcome.approvals_required or policy.defaults.approvals_required
    if not approvers or any(USERGROUP_ID.match(a) for a in approvers) or len(approvers) >= required:
        return []
    return [
        _problem(
            policy.source_of(f"{label}s/{outcome.name}"),
            f"{label} {outcome.name!r}: needs {required} approvals but names only "
            f"{len(approvers)} approver(s): {', '.join(approvers)}",
        )
    ]


def _nobody_may_approve(policy: Policy) -> list[PolicyProblem]:
    problems = [
        _problem(
            policy.source_of(f"rules/{rule.name}"),
            f"rule {rule.name!r}: RISKY with an empty approvers list, so nobody may approve it",
        )
        for rule in policy.rules
        if rule.enabled and rule.verdict is Verdict.RISKY and rule.approvers == ()
    ]
    if policy.defaults.approvers:
        return problems
    relying = [r for r in policy.rules if r.enabled and r.approvers is None]
    risky = [r.name for r in relying if r.verdict is Verdict.RISKY]
    safe = [r.name for r in relying if r.verdict is Verdict.SAFE]
    where = policy.source_of("defaults.approvers")
    if risky:
        problems.append(
            _problem(
                where,
                f"defaults.approvers is empty, so nobody may approve the RISKY rules "
                f"{', '.join(risky)}: set it in your site file, e.g. approvers: [S0ONCALL]",
            )
        )
    elif safe:
        problems.append(
            _problem(
                where,
                f"defaults.approvers is empty: SAFE rules {', '.join(safe)} are refused whenever "
                "supervised mode or the confidence floor asks for approval",
                warning=True,
            )
        )
    return problems


def check_policy(policy: Policy) -> list[PolicyProblem]:
    """Problems of a merged policy: unreachable rules and approvals nobody can give."""
    problems = _unreachable(policy) + _nobody_may_approve(policy)
    for rule in policy.rules:
        if rule.enabled and rule.verdict is not Verdict.FORBIDDEN:
            problems.extend(_approval_count(policy, rule, "rule"))
    for freeze in policy.freezes:
        problems.extend(_approval_count(policy, freeze, "freeze"))
    return problems


def check_policy_files(
    paths: Iterable[str | Path] = (), *, include_defaults: bool = True
) -> list[PolicyProblem]:
    """Every problem in the files (with file and line, in file order), then, once every file
    is valid, the problems only the merged policy shows (unreachable rules, approvers)."""
    parsed = [parse_policy_file(p) for p in policy_paths(paths, include_defaults=include_defaults)]
    problems = [
        problem for file in parsed for problem in sorted(file.problems, key=lambda p: p.line or 0)
    ]
    return problems or check_policy(merge_policy_files(parsed))
