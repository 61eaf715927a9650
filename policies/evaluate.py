"""The pure decision: protected namespaces, first matching rule, floors, freezes, then the mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from policies.actions import ProposedAction
from policies.decision import Decision, Disposition, EvaluationContext, Mode, Verdict
from policies.matching import Facts, facts_of, mismatches, namespace_matches
from policies.schema import Defaults, Freeze, Policy, Rule

PROTECTED_RULE = "protected-namespace"
DEFAULT_DENY_RULE = "default-deny"
DECLARED_FREEZE = "declared"


@dataclass(frozen=True)
class RuleCheck:
    rule: Rule
    misses: tuple[str, ...]

    @property
    def matched(self) -> bool:
        return self.rule.enabled and not self.misses


@dataclass(frozen=True)
class FreezeCheck:
    freeze: Freeze
    window_open: bool
    misses: tuple[str, ...]

    @property
    def applies(self) -> bool:
        return self.window_open and not self.misses


@dataclass(frozen=True)
class Evaluation:
    """How a decision came about; `explain` renders it, `evaluate` returns its decision."""

    action: ProposedAction
    facts: Facts
    protected_by: str | None
    checks: tuple[RuleCheck, ...]
    matched: Rule | None
    freezes: tuple[FreezeCheck, ...]
    mode_source: str
    decision: Decision


def resolve_mode(policy: Policy, namespace: str | None) -> tuple[Mode, str]:
    """The first namespace override that matches, else the global mode (with where it came from)."""
    for override in policy.mode_overrides:
        if namespace is not None and namespace_matches(override.namespaces, namespace):
            return override.mode, f"override for {', '.join(override.namespaces)}"
    return policy.mode, "global default"


def _check_freezes(policy: Policy, facts: Facts, context: EvaluationContext) -> list[FreezeCheck]:
    return [
        FreezeCheck(freeze, freeze.is_open(context.now), tuple(mismatches(freeze.match, facts)))
        for freeze in policy.freezes
    ]


def freezes_in_effect(
    action: ProposedAction, context: EvaluationContext, policy: Policy
) -> tuple[str, ...]:
    """Names of the change freezes covering this action now ("declared" for an operator's)."""
    checks = _check_freezes(policy, facts_of(action, context), context)
    declared = (DECLARED_FREEZE,) if context.declared_freeze else ()
    return declared + tuple(c.freeze.name for c in checks if c.applies)


def _raise(verdict: Verdict, floor: Verdict, cause: str, adjustments: list[str]) -> Verdict:
    raised = verdict.at_least(floor)
    if raised is not verdict:
        adjustments.append(f"{cause}: {verdict} raised to {raised}.")
    else:
        adjustments.append(f"{cause}: already {verdict}.")
    return raised


def _disposition(verdict: Verdict, mode: Mode, approvals: int) -> Disposition:
    if mode is Mode.SHADOW:
        return Disposition.LOG_ONLY
    if verdict is Verdict.FORBIDDEN:
        return Disposition.REFUSE
    return Disposition.REQUEST_APPROVAL if approvals else Disposition.EXECUTE


def _first_match(policy: Policy, facts: Facts) -> tuple[str | None, list[RuleCheck], Rule | None]:
    """(protecting glob, rules tried in order, the matching rule)."""
    namespace = facts.namespace
    for glob in policy.protected_namespaces:
        if namespace is not None and namespace_matches((glob,), namespace):
            return glob, [], None
    checks: list[RuleCheck] = []
    for rule in policy.rules:
        checks.append(RuleCheck(rule, tuple(mismatches(rule.match, facts))))
        if checks[-1].matched:
            return None, checks, rule
    return None, checks, None


def _floors(
    verdict: Verdict,
    facts: Facts,
    context: EvaluationContext,
    policy: Policy,
    freezes: list[Freeze],
) -> tuple[Verdict, list[str]]:
    """Apply the confidence floor and the freezes in effect; say what each did."""
    adjustments: list[str] = []
    if verdict is Verdict.SAFE and facts.confidence < policy.confidence_floor:
        cause = (
            f"The finding's confidence {facts.confidence:.2f} is below the floor "
            f"{policy.confidence_floor:.2f}"
        )
        verdict = _raise(verdict, Verdict.RISKY, cause, adjustments)
    if context.declared_freeze:
        cause = f"A change freeze is declared ({context.declared_freeze})"
        verdict = _raise(verdict, Verdict.RISKY, cause, adjustments)
    for freeze in freezes:
        cause = f"Change freeze {freeze.name!r} is in effect"
        verdict = _raise(verdict, freeze.verdict, cause, adjustments)
    return verdict, adjustments


def _approval_terms(
    outcomes: list[Freeze | Rule], defaults: Defaults
) -> tuple[tuple[str, ...], int, timedelta]:
    """Approvers from the first freeze or rule naming them; the strictest count and expiry."""
    approvers = next((o.approvers for o in outcomes if o.approvers is not None), None)
    counts = [o.approvals_required for o in outcomes if o.approvals_required]
    expiries = [o.approval_expiry for o in outcomes if o.approval_expiry]
    return (
        defaults.approvers if approvers is None else approvers,
        max(counts or [defaults.approvals_required]),
        min(expiries or [defaults.approval_expiry]),
    )


def trace(action: ProposedAction, context: EvaluationContext, policy: Policy) -> Evaluation:
    """Evaluate and keep every step (see `evaluate` for the rules of the game)."""
    facts = facts_of(action, context)
    mode, mode_source = resolve_mode(policy, facts.namespace)
    protected_by, checks, matched = _first_match(policy, facts)
    if protected_by is not None:
        rule_name, verdict = PROTECTED_RULE, Verdict.FORBIDDEN
        summary = (
            f"Namespace {facts.namespace!r} is protected ({protected_by}): opsbot never changes it."
        )
    elif matched is None:
        rule_name, verdict = DEFAULT_DENY_RULE, Verdict.FORBIDDEN
        summary = "No rule matched, so the action is denied by default."
    else:
        rule_name, verdict = matched.name, matched.verdict
        summary = matched.description or f"Matched rule {matched.name!r}."

    freeze_checks = _check_freezes(policy, facts, context)
    applying = [c.freeze for c in freeze_checks if c.applies]
    verdict, adjustments = _floors(verdict, facts, context, policy, applying)
    outcomes: list[Freeze | Rule] = [*applying, *([matched] if matched else [])]
    approvers, required, expiry = _approval_terms(outcomes, policy.defaults)
    needs_approval = verdict is Verdict.RISKY or (
        verdict is Verdict.SAFE and mode is Mode.SUPERVISED
    )
    if needs_approval and not approvers:
        adjustments.append(
            f"Approval is needed but nobody may approve (set approvers on rule {rule_name!r} "
            f"or defaults.approvers): {verdict} raised to FORBIDDEN."
        )
        verdict = Verdict.FORBIDDEN
    approvals = required if needs_approval and verdict is not Verdict.FORBIDDEN else 0
    decision = Decision(
        verdict=verdict,
        rule=rule_name,
        reason=" ".join([summary, *adjustments]),
        adjustments=tuple(adjustments),
        mode=mode,
        disposition=_disposition(verdict, mode, approvals),
        approvers=approvers if approvals else (),
        approvals_required=approvals,
        approval_expiry=expiry,
    )
    return Evaluation(
        action=action,
        facts=facts,
        protected_by=protected_by,
        checks=tuple(checks),
        matched=matched,
        freezes=tuple(freeze_checks),
        mode_source=mode_source,
        decision=decision,
    )


def evaluate(action: ProposedAction, context: EvaluationContext, policy: Policy) -> Decision:
    """Classify one proposed action. Pure: same inputs, same decision; never does I/O.

    1. A target in a protected namespace (kube-system, ...) is FORBIDDEN.
    2. Otherwise the first enabled rule whose `match` holds gives the verdict; none: FORBIDDEN.
    3. A SAFE verdict for a finding below `confidence_floor` becomes RISKY; change freezes
       in effect raise the verdict to their own (RISKY or FORBIDDEN).
    4. The mode decides what happens now: shadow only logs; supervised asks approval even for
       SAFE; autonomous runs SAFE at once. RISKY always asks; FORBIDDEN is refused.
       Approval that nobody is allowed to give makes the action FORBIDDEN.
    """
    return trace(action, context, policy).decision
