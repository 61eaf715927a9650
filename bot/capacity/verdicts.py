"""One verdict per workload. The analyses run side by side, so one deployment can come out of
them as "may run out of memory" (a forecast), "idle, scale to 0" (idle resources) and
"over-provisioned" (rightsizing) at once, which asks the reader to reconcile advice that
cannot all be followed. Each workload keeps the first verdict that applies, in this order:

1. runs out: its mean forecast crosses capacity within the horizon (a risk to act on);
2. scaled to zero: 0 replicas for weeks (nothing runs, so there is nothing to forecast or
   rightsize; its missing usage data is expected, not a failure);
3. idle: it runs but serves nothing (scaling it to 0 also settles any forecast or rightsizing);
4. needs more than it requests (under-provisioned);
5. may run out: only the prediction interval's upper bound crosses capacity;
6. over-provisioned (a rightsizing saving): never beside a forecast that it may run out.

Volumes, nodes and failed jobs are not workloads and keep every finding. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import IntEnum

from bot.capacity.models import (
    CapacityReport,
    Exhaustion,
    IdleKind,
    IdleResource,
    Rightsizing,
    Scope,
    Skip,
)

Workload = tuple[str, str]  # (namespace, deployment)


class Verdict(IntEnum):
    """A workload's verdicts, the one that wins first (lower value)."""

    RUNS_OUT = 1
    SCALED_TO_ZERO = 2
    IDLE = 3
    NEEDS_MORE = 4
    MAY_RUN_OUT = 5
    OVER_PROVISIONED = 6


VERDICT_RULE = (
    "One verdict per workload, the first that applies, in this order: runs out, scaled to "
    "zero, idle, needs more than it requests, may run out, over-provisioned."
)


def _of_exhaustion(item: Exhaustion) -> tuple[Workload, Verdict] | None:
    ref = item.resource
    if ref.scope is not Scope.WORKLOAD or ref.namespace is None:
        return None
    verdict = Verdict.RUNS_OUT if item.days_likely is not None else Verdict.MAY_RUN_OUT
    return (ref.namespace, ref.name), verdict


def _of_idle(item: IdleResource) -> tuple[Workload, Verdict] | None:
    if item.kind is IdleKind.SCALED_TO_ZERO:
        return (item.namespace, item.name), Verdict.SCALED_TO_ZERO
    if item.kind is IdleKind.IDLE_WORKLOAD:
        return (item.namespace, item.name), Verdict.IDLE
    return None


def _of_rightsizing(item: Rightsizing) -> tuple[Workload, Verdict]:
    verdict = Verdict.NEEDS_MORE if item.saving_usd_month < 0 else Verdict.OVER_PROVISIONED
    return (item.usage.namespace, item.usage.workload), verdict


def verdicts(report: CapacityReport) -> dict[Workload, Verdict]:
    """The winning verdict of every workload any analysis had something to say about."""
    found: dict[Workload, Verdict] = {}
    candidates = [
        *(_of_exhaustion(e) for e in report.exhaustions),
        *(_of_idle(i) for i in report.idle),
        *(_of_rightsizing(r) for r in report.rightsizing),
    ]
    for candidate in candidates:
        if candidate is None:
            continue
        workload, verdict = candidate
        found[workload] = min(found.get(workload, verdict), verdict)
    return found


def one_verdict(report: CapacityReport, skipped: Sequence[Skip] = ()) -> CapacityReport:
    """The report with each workload's findings cut to its winning verdict, and `skipped`
    (what could not be analysed) without the workloads already explained as scaled to zero
    or idle."""
    won = verdicts(report)

    def keeps(candidate: tuple[Workload, Verdict] | None) -> bool:
        return candidate is None or won[candidate[0]] == candidate[1]

    explained = {w for w, v in won.items() if v in (Verdict.SCALED_TO_ZERO, Verdict.IDLE)}
    return replace(
        report,
        exhaustions=tuple(e for e in report.exhaustions if keeps(_of_exhaustion(e))),
        idle=tuple(i for i in report.idle if keeps(_of_idle(i))),
        rightsizing=tuple(r for r in report.rightsizing if keeps(_of_rightsizing(r))),
        skipped=(
            *report.skipped,
            *(s.text for s in skipped if s.workload is None or s.workload not in explained),
        ),
    )
