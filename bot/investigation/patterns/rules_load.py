"""Rules: load one workload's change drives onto a shared dependency.

- `caller_load`: a service's request rate rose while its callers' own traffic stayed
  level (more calls per caller request: retries without backoff, a release that multiplies
  calls), the service fails or slows under it, and a caller was rolled out just before the
  rise. The caller's rollout is the cause; rolling back the service that alerts, or giving
  it more pods, sends the same calls again.
- `database_hog`: one client of a database (postgres_exporter's per-user/application
  activity) works far more than before and than every other client, and the workload it
  is (found through the database Service's clients, in any namespace: batch and ETL jobs
  are on no request path) was rolled out just before. The others only queue behind it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import ValidationError

from bot.investigation.agent.proposals import make_action
from bot.investigation.change_timeline import ChangeEvent
from bot.investigation.patterns.base import Candidate, RuleContext
from bot.investigation.patterns.load_shifts import fan_out_rises
from bot.investigation.patterns.observe import Observations
from bot.investigation.service_graph import error_origins, latency_origins
from policies import ActionKind, ProposedAction

CALLER_CONFIDENCE = 0.72
HOG_CONFIDENCE = 0.75
HOG_UNCHANGED_CONFIDENCE = 0.5
BEFORE_SHIFT = timedelta(hours=2)  # a change this long before the shift can have caused it
AFTER_SHIFT = timedelta(minutes=10)  # the shift's estimate can precede the change a little


def _rollout_before(
    obs: Observations, service: str, at: datetime, namespace: str | None = None
) -> ChangeEvent | None:
    """The service's latest rollout within `BEFORE_SHIFT` before the shift at `at`."""
    near = [
        e
        for e in obs.timeline
        if e.service == service
        and (namespace is None or e.namespace == namespace)
        and -AFTER_SHIFT <= at - e.at <= BEFORE_SHIFT
    ]
    return max(near, key=lambda e: e.at) if near else None


def _rollback(
    ctx: RuleContext, event: ChangeEvent, reason: str, confidence: float
) -> list[ProposedAction]:
    try:
        return [
            make_action(
                ActionKind.ROLLBACK_DEPLOYMENT,
                name=event.service,
                namespace=event.namespace,
                reason=reason,
                confidence=confidence,
                incident_id=ctx.incident_id,
                prefix="pattern",
            )
        ]
    except ValidationError:
        return []


def _version(event: ChangeEvent) -> str:
    tags = [image.rsplit(":", 1)[-1] for image in event.images if ":" in image]
    return ", ".join(tags) or f"revision {event.revision}"


def caller_load(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """A caller's rollout multiplied its calls into a service that now fails or slows."""
    traces = obs.traces.traces if obs.traces else []
    troubled = set(obs.alerted) | set(error_origins(traces)) | set(latency_origins(traces))
    for rise in fan_out_rises(obs.ranges.get("request_rate_by_service"), obs.graph):
        if rise.callee not in troubled:
            continue
        if _rollout_before(obs, rise.callee, rise.at) is not None:
            continue  # the service changed itself: its own rules say more
        changed = [
            e for e in (_rollout_before(obs, c, rise.at) for c in rise.callers) if e is not None
        ]
        if len(changed) != 1:
            continue  # no caller changed, or several did and the rates cannot tell which
        event = changed[0]
        callee, caller = rise.callee, event.service
        moved = (
            f"{callee}'s request rate went from {rise.callee_rate.before:.3g}/s to "
            f"{rise.callee_rate.after:.3g}/s at {rise.at:%H:%M}Z while the traffic into its "
            f"callers ({', '.join(rise.callers)}) went from {rise.callers_rate.before:.3g}/s to "
            f"{rise.callers_rate.after:.3g}/s: {rise.growth:.1f}x the calls per request"
        )
        reason = (
            f"{caller} {_version(event)} (rolled out {event.at:%H:%M}Z) multiplies its calls "
            f"into {callee}; rolling it back restores the call rate"
        )
        evidence = obs.cite("metric:request_rate_by_service")[:1] + obs.cite("traces")[:1]
        return Candidate(
            rule="caller_load",
            summary=(
                f"{caller} {_version(event)} drives the load on {callee}: since its rollout "
                f"it sends {rise.growth:.1f}x the calls per request (retries or fan-out), and "
                f"{callee} fails or slows under that load."
            ),
            root_cause=(
                f"{moved}. Users did not send more; {caller} calls {callee} more often since "
                f"its rollout ({event.describe()}). {callee}'s errors and latency (rate "
                "limits, 429/503, timeouts) are the symptom: rolling {callee} back or "
                "adding pods sends the same calls again. Roll back "
                f"{caller}."
            ).replace("{callee}", callee),
            confidence=CALLER_CONFIDENCE,
            evidence=evidence,
            actions=_rollback(ctx, event, reason, CALLER_CONFIDENCE),
            recommendations=[
                f"Give {caller}'s client to {callee} a retry budget with exponential backoff "
                "and jitter before rolling it out again."
            ],
            suspects=[caller, callee],
        )
    return None


def database_hog(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """One client of the database works far more than the others since its rollout."""
    hog, workload = obs.db_hog, obs.db_hog_workload
    if hog is None or workload is None or hog.at is None:
        return None
    event = _rollout_before(obs, workload.name, hog.at, workload.namespace)
    where = f"{workload.namespace}/{workload.name}"
    waiting = (
        f" The request-path services that alert ({', '.join(obs.alerted)}) wait on the "
        "database; their own code is not where the time goes."
        if obs.alerted
        else ""
    )
    evidence = (
        obs.cite("metric:db_longest_tx_by_client")[:1]
        + obs.cite("metric:db_sessions_by_client")[:1]
        + obs.cite("service_clients")[:1]
    )
    if event is None:
        return Candidate(
            rule="database_hog",
            summary=(
                f"{where} loads the database {hog.database_service}: its sessions work far "
                "more than any other client's since "
                f"{hog.at:%H:%M}Z."
            ),
            root_cause=f"{hog.describe()}.{waiting} No rollout of {where} explains it.",
            confidence=HOG_UNCHANGED_CONFIDENCE,
            evidence=evidence,
            recommendations=[
                f"Ask {where}'s owners to stop or throttle its queries on "
                f"{hog.database_service}; scaling it to zero stops them."
            ],
            suspects=[workload.name, hog.database_service, *obs.alerted],
        )
    reason = (
        f"{where} {_version(event)} (rolled out {event.at:%H:%M}Z) loads the database "
        f"{hog.database_service}; rolling it back stops its queries"
    )
    return Candidate(
        rule="database_hog",
        summary=(
            f"{workload.name} {_version(event)} ({workload.namespace}) hogs the database "
            f"{hog.database_service}: since its rollout its queries run far longer and "
            "hold more sessions, and every other client's queries wait behind them."
        ),
        root_cause=(
            f"{hog.describe()}; no other client of {hog.database_service} grew like it. "
            f"It is {where} (its {', '.join(workload.env)} names the database), rolled out "
            f"at {event.at:%H:%M}Z ({event.what}).{waiting} Roll back {workload.name}."
        ),
        confidence=HOG_CONFIDENCE,
        evidence=evidence,
        actions=_rollback(ctx, event, reason, HOG_CONFIDENCE),
        suspects=[workload.name, hog.database_service, *obs.alerted],
    )
