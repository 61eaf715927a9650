"""Capacity recommendations become proposals: they never act by themselves.

Rightsizing becomes `set_resources`; idle resources become `scale_deployment` to 0 (idle
workloads), `delete_job` (failed jobs left behind) or `delete_pvc` (unattached claims);
a deployment already at zero replicas has nothing to propose. Every proposal goes through
the remediation service like an investigation's: measured on the live cluster, classified
by the policy, approved by a human where the policy says RISKY, validated, undone if worse.

They are proposed without an incident: a capacity review is not an outage, so opening
incidents for it would skew incident counts, start an investigation, and page. The
proposal ids are stable per target and container, so a weekly review does not repeat a
card still open. What the policy FORBIDS is not proposed at all (a refused proposal pages
the on-call, which a cost recommendation must never do); it is listed as a note instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.capacity.models import IdleKind, IdleResource, Rightsizing
from bot.remediation.escalation import SlackThread
from bot.remediation.proposals import ProposalOutcome, Rationale, plan_and_decide
from bot.remediation.service import Remediation
from bot.store.models import utcnow
from policies import ActionKind, BlastRadius, ProposedAction, Verdict
from policies.actions import AGENT as AGENT_PROPOSER
from policies.quantities import cpu_text, memory_text

CONFIDENCE = 0.9
"""Usage measured over the window (at least `min_history_days`) is strong evidence."""


@dataclass(frozen=True)
class CapacityProposal:
    action: ProposedAction
    summary: str  # the card's headline: "payments/app: cpu 500m→45m, …, saves $23.02/month"
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewOutcome:
    outcomes: tuple[ProposalOutcome, ...]
    notes: tuple[str, ...]  # what was not proposed, and why


def proposal_id(kind: ActionKind, namespace: str, name: str, detail: str = "") -> str:
    digest = hashlib.sha256(f"{kind}/{namespace}/{name}/{detail}".encode()).hexdigest()[:10]
    return f"capacity-{kind.value}-{name}-{digest}"[:128]


def _quantity(value: float | None, cpu: bool) -> str | None:
    if value is None:
        return None
    return cpu_text(value) if cpu else memory_text(value)


def _money(usd: float) -> str:
    return f"saves ${usd:,.2f}/month" if usd >= 0 else f"costs ${-usd:,.2f}/month more"


def headline(rightsizing: Rightsizing) -> str:
    """`payments/app: cpu 500m→45m, memory 512Mi→174Mi, saves $23.02/month`."""
    usage = rightsizing.usage
    before = (_quantity(usage.cpu_request, True), _quantity(usage.memory_request, False))
    after = (cpu_text(rightsizing.cpu_request), memory_text(rightsizing.memory_request))
    return (
        f"{usage.workload}/{usage.container}: cpu {before[0] or 'unset'}→{after[0]}, "
        f"memory {before[1] or 'unset'}→{after[1]}, {_money(rightsizing.saving_usd_month)}"
    )


def rightsizing_proposal(rightsizing: Rightsizing) -> CapacityProposal:
    usage = rightsizing.usage
    params = {
        "container": usage.container,
        "cpu_request": cpu_text(rightsizing.cpu_request),
        "cpu_limit": _quantity(rightsizing.cpu_limit, True),
        "memory_request": memory_text(rightsizing.memory_request),
        "memory_limit": memory_text(rightsizing.memory_limit),
        "previous_cpu_request": _quantity(usage.cpu_request, True),
        "previous_cpu_limit": _quantity(usage.cpu_limit, True),
        "previous_memory_request": _quantity(usage.memory_request, False),
        "previous_memory_limit": _quantity(usage.memory_limit, False),
    }
    action = ProposedAction.model_validate(
        {
            "id": proposal_id(
                ActionKind.SET_RESOURCES, usage.namespace, usage.workload, usage.container
            ),
            "kind": ActionKind.SET_RESOURCES,
            "target": {"kind": "deployment", "namespace": usage.namespace, "name": usage.workload},
            "params": params,
            "reason": rightsizing.reason[:500],
            "proposer": AGENT_PROPOSER,
            "confidence": CONFIDENCE,
            "blast_radius": BlastRadius(
                pods_affected=usage.replicas, replicas_affected=usage.replicas, workload_share=1.0
            ),
        }
    )
    return CapacityProposal(
        action, f"{usage.namespace}/{headline(rightsizing)}", (rightsizing.reason,)
    )


_IDLE_ACTIONS: dict[IdleKind, tuple[ActionKind, str]] = {
    IdleKind.IDLE_WORKLOAD: (ActionKind.SCALE_DEPLOYMENT, "deployment"),
    IdleKind.FAILED_JOB: (ActionKind.DELETE_JOB, "job"),
    IdleKind.UNATTACHED_VOLUME: (ActionKind.DELETE_PVC, "persistentvolumeclaim"),
}


def idle_proposal(idle: IdleResource) -> CapacityProposal | None:
    """None for a deployment already at zero replicas: nothing left to change."""
    found = _IDLE_ACTIONS.get(idle.kind)
    if found is None:
        return None
    kind, target_kind = found
    scale = kind is ActionKind.SCALE_DEPLOYMENT
    action = ProposedAction.model_validate(
        {
            "id": proposal_id(kind, idle.namespace, idle.name),
            "kind": kind,
            "target": {"kind": target_kind, "namespace": idle.namespace, "name": idle.name},
            "params": {"replicas": 0} if scale else {},
            "reason": f"{idle.kind.value.replace('_', ' ')}: {idle.detail}"[:500],
            "proposer": AGENT_PROPOSER,
            "confidence": CONFIDENCE,
            "blast_radius": BlastRadius(pods_affected=0, workload_share=1.0 if scale else 0.0),
        }
    )
    money = f", {_money(idle.monthly_cost_usd)}" if idle.monthly_cost_usd else ""
    summary = f"{idle.namespace}/{idle.name}: {idle.kind.value.replace('_', ' ')}{money}"
    return CapacityProposal(action, summary, (idle.detail,))


def capacity_proposals(
    rightsizing: Sequence[Rightsizing], idle: Sequence[IdleResource]
) -> tuple[list[CapacityProposal], list[str]]:
    """Proposals for the recommendations (pure), and notes on what needs none."""
    proposals = [rightsizing_proposal(r) for r in rightsizing]
    notes: list[str] = []
    for resource in idle:
        proposal = idle_proposal(resource)
        if proposal is None:
            notes.append(
                f"{resource.namespace}/{resource.name}: {resource.kind.value.replace('_', ' ')}"
                " — nothing to propose (delete it by hand if it is no longer needed)"
            )
        else:
            proposals.append(proposal)
    return proposals, notes


def propose_capacity(
    svc: Remediation,
    rightsizing: Sequence[Rightsizing],
    idle: Sequence[IdleResource],
    *,
    thread: SlackThread | None = None,
) -> ReviewOutcome:
    """Hand the recommendations to remediation (call from a worker thread); their cards
    go in `thread` (a capacity review's), else at the top of #incidents."""
    proposals, notes = capacity_proposals(rightsizing, idle)
    outcomes: list[ProposalOutcome] = []
    for proposal in proposals:
        action = proposal.action
        _, plan_error, decision = plan_and_decide(svc.parts, action, utcnow())
        if decision.verdict is Verdict.FORBIDDEN:
            notes.append(
                f"{proposal.summary}: not proposed, {action.kind} is FORBIDDEN here "
                f"by rule {decision.rule}"
            )
            continue
        if plan_error is not None:
            notes.append(f"{proposal.summary}: not proposed, {plan_error}")
            continue
        rationale = Rationale(
            summary=proposal.summary,
            confidence=CONFIDENCE,
            evidence=list(proposal.evidence),
            engine="capacity",
        )
        outcomes.extend(
            svc.propose(None, [action], proposal.summary, rationale=rationale, thread=thread)
        )
    return ReviewOutcome(tuple(outcomes), tuple(notes))
