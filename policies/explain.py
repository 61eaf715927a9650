"""`opsbot policy explain`: the decision for one action, told step by step."""

from __future__ import annotations

from policies.actions import NoParams, ProposedAction
from policies.decision import Decision, Disposition, EvaluationContext, Verdict
from policies.evaluate import Evaluation, FreezeCheck, trace
from policies.schema import Policy, format_duration


def _action_lines(evaluation: Evaluation) -> list[str]:
    action, blast = evaluation.action, evaluation.action.blast_radius
    params = (
        ""
        if isinstance(action.params, NoParams)
        else " (" + ", ".join(f"{k}={v}" for k, v in action.params.model_dump().items()) + ")"
    )
    incident = f", incident {action.incident_id}" if action.incident_id else ""
    return [
        f"Action {action.id}: {action.kind} on {action.target}{params}",
        f"  proposed by {action.proposer}, finding confidence {action.confidence:.2f}{incident}",
        f"  blast radius: {blast.pods_affected} pod(s), {blast.replicas_affected} replica(s), "
        f"{blast.workload_share:.0%} of the workload, {blast.namespaces_touched} namespace(s), "
        f"{blast.nodes_touched} node(s)",
    ]


def _rule_lines(evaluation: Evaluation, policy: Policy) -> list[str]:
    if evaluation.protected_by is not None:
        return [
            f"Protected namespaces: {evaluation.facts.namespace} matches "
            f"{evaluation.protected_by!r}, so no rule is consulted."
        ]
    lines = ["Rules (first match wins):"]
    for number, check in enumerate(evaluation.checks, start=1):
        where = policy.source_of(f"rules/{check.rule.name}")
        head = f"  {number}. {check.rule.name}" + (f" ({where})" if where else "")
        if not check.rule.enabled:
            lines.append(f"{head}: disabled")
        elif check.matched:
            lines.append(f"{head}: MATCHED → {check.rule.verdict}")
            if check.rule.description:
                lines.append(f"     {check.rule.description}")
        else:
            lines.append(f"{head}: no match")
            lines.extend(f"     - {miss}" for miss in check.misses)
    if evaluation.matched is None:
        lines.append("  No rule matched: default deny (FORBIDDEN).")
    later = len(policy.rules) - len(evaluation.checks)
    if later:
        lines.append(f"  {later} later rule(s) not considered.")
    return lines


def _freeze_line(check: FreezeCheck) -> str:
    freeze = check.freeze
    if not check.window_open:
        return f"  {freeze.name}: not in effect (outside its windows, {freeze.timezone})"
    if check.misses:
        return (
            f"  {freeze.name}: in effect but does not cover this action: {'; '.join(check.misses)}"
        )
    return f"  {freeze.name}: in effect → at least {freeze.verdict}"


def _outcome(decision: Decision) -> str:
    if decision.disposition is Disposition.EXECUTE:
        return "execute now"
    if decision.disposition is Disposition.REFUSE:
        return "refuse and escalate to a human"
    asking = (
        f"ask for {decision.approvals_required} approval(s) from "
        f"{', '.join(decision.approvers)} within {format_duration(decision.approval_expiry)}"
    )
    if decision.disposition is Disposition.REQUEST_APPROVAL:
        return asking
    would = {
        Verdict.SAFE: "execute",
        Verdict.RISKY: asking,
        Verdict.FORBIDDEN: "refuse",
    }[decision.verdict]
    return f"log only (shadow mode); otherwise it would {would}"


def explain(action: ProposedAction, context: EvaluationContext, policy: Policy) -> str:
    """A multi-line account of `evaluate(action, context, policy)`, for people."""
    evaluation = trace(action, context, policy)
    decision = evaluation.decision
    lines = _action_lines(evaluation)
    lines.append(f"Evaluated at {context.now.isoformat()}")
    lines.extend(_rule_lines(evaluation, policy))
    if evaluation.freezes:
        lines.append("Change freezes:")
        lines.extend(_freeze_line(check) for check in evaluation.freezes)
    if decision.adjustments:
        lines.append("Adjustments:")
        lines.extend(f"  - {adjustment}" for adjustment in decision.adjustments)
    lines.append(f"Verdict: {decision.verdict} (rule {decision.rule})")
    lines.append(f"Mode: {decision.mode} ({evaluation.mode_source})")
    lines.append(f"Outcome: {_outcome(decision)}")
    return "\n".join(lines)
