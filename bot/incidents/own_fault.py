"""Whether a workload's own behaviour is at fault before an action on it is proposed.

An incident is opened per workload, so one broken service can open several: its callers
alert too, and a caller that was deployed at the same time looks like its own culprit (a
coincident release). Acting on the caller (rolling it back, restarting, scaling it) cannot
fix errors that start in a dependency, and rolling back an innocent release is harmful.

So before a finding's action on a workload is handed to remediation, the traces that went
through that workload during the incident are read: for each failing trace, where its
failure starts (the deepest failing span's service; a leaf client span that failed waiting
on an untraced peer is that peer's). The action is held back, with the reason said in the
thread, when

- the target's own pods do not fail (crash, cannot start, restart: then it is at fault),
- enough failing traces go through the target (`MIN_FAILING`),
- the target itself starts few of them (at most `OWN_MAX`),
- one other service starts most of them (at least `ELSEWHERE_MIN`), and
- that service has trouble of its own that does not come from the target: a rollout of
  its own in the last `RECENT_CHANGE`, or an open incident of its own while the target
  has no recent rollout (a caller that changed while its callee alerts may be the cause of
  the callee's trouble, e.g. a retry storm: that is left to the finding).

Anything else (no traces, too few failures, the target starts its own failures) leaves the
finding's action as it was: this check only removes actions the evidence contradicts.
The decision (`hold_reason`) is pure; reading the traces, rollouts and incidents is behind
`FaultEvidence`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from kubernetes import client

from policies import ProposedAction, ResourceKind
from tools.base import ToolFailure
from tools.traces.api import JaegerApi
from tools.traces.summary import TraceSummary, summarise_trace
from tools.traces.tools import micros

MIN_FAILING = 5
OWN_MAX = 0.2
ELSEWHERE_MIN = 0.5
RECENT_CHANGE = timedelta(hours=2)
TRACE_LOOKBACK = timedelta(minutes=30)
TRACE_LIMIT = 100
REVISION = "deployment.kubernetes.io/revision"
WORKLOAD_KINDS = frozenset({ResourceKind.DEPLOYMENT})
STARTING = frozenset({None, "ContainerCreating", "PodInitializing"})
RESTARTS_FAILING = 2


def failure_origins(traces: Sequence[TraceSummary]) -> tuple[int, Counter[str]]:
    """(failing traces, per service how many of them start there): the deepest failing
    span's service, or the untraced peer a failing leaf client span waited on."""
    origins: Counter[str] = Counter()
    failing = 0
    for trace in traces:
        if not trace.errors:
            continue
        failing += 1
        deepest = max(trace.errors, key=lambda span: span.depth)
        origins[deepest.waits_on or deepest.service] += 1
    return failing, origins


@dataclass(frozen=True)
class Elsewhere:
    """Why an action on `target` is held back: `origin` starts `started` of the `failing`
    traces through it, the target `own` of them; `changed_at` / `incident_id` are the
    origin's own trouble."""

    target: str
    origin: str
    failing: int
    started: int
    own: int
    changed_at: datetime | None
    incident_id: int | None

    def because(self) -> str:
        """The reason in words (plain text: the caller escapes it for Slack)."""
        own_trouble = []
        if self.changed_at is not None:
            own_trouble.append(f"rolled out at {self.changed_at:%H:%M}Z")
        if self.incident_id is not None:
            own_trouble.append(f"has its own incident #{self.incident_id}")
        return (
            f"{self.started} of the {self.failing} failing traces through {self.target} start "
            f"in {self.origin} ({' and '.join(own_trouble)}); {self.target}'s own spans: "
            f"{self.own}. Acting on {self.target} cannot fix what starts elsewhere."
        )


def hold_reason(
    target: str,
    failing: int,
    origins: Mapping[str, int],
    changed: Mapping[str, datetime],
    incidents: Mapping[str, int],
) -> Elsewhere | None:
    """Whether the evidence says `target`'s own behaviour is not at fault (see the module
    docstring); `changed`: services with a recent rollout (when), `incidents`: services
    with an open incident of their own (its id)."""
    if failing < MIN_FAILING:
        return None
    own = origins.get(target, 0)
    if own > OWN_MAX * failing:
        return None
    others = [(n, s) for s, n in origins.items() if s != target]
    if not others:
        return None
    started, origin = max(others)
    if started < ELSEWHERE_MIN * failing:
        return None
    changed_at = changed.get(origin)
    incident_id = incidents.get(origin)
    if changed_at is None and (incident_id is None or target in changed):
        return None
    return Elsewhere(target, origin, failing, started, own, changed_at, incident_id)


class FaultEvidence(Protocol):
    """What `hold_reason` reads of the live systems."""

    def traces(self, service: str, start: datetime, end: datetime) -> list[TraceSummary]:
        """Failing traces through `service` in the window (empty when none can be read)."""
        ...

    def pods_failing(self, namespace: str, name: str) -> bool:
        """Whether the Deployment's own pods fail (crash, cannot start, restart)."""
        ...

    def rollouts(self, namespace: str, since: datetime) -> dict[str, datetime]:
        """Deployments of `namespace` rolled out (a new revision) since `since`: when."""
        ...


class LiveFaultEvidence:
    """`FaultEvidence` from Jaeger and the Kubernetes API (either may be absent: then it
    answers nothing, and nothing is held back)."""

    def __init__(self, jaeger: JaegerApi | None, kube: client.ApiClient | None) -> None:
        self.jaeger = jaeger
        self.apps: Any = client.AppsV1Api(kube) if kube is not None else None
        self.core: Any = client.CoreV1Api(kube) if kube is not None else None

    def traces(self, service: str, start: datetime, end: datetime) -> list[TraceSummary]:
        """The failing traces (`error=true`) through `service`, newest `TRACE_LIMIT`."""
        if self.jaeger is None:
            return []
        params = {
            "service": service,
            "start": str(micros(start)),
            "end": str(micros(end)),
            "limit": str(TRACE_LIMIT),
            "tags": json.dumps({"error": "true"}),
        }
        try:
            found = self.jaeger.find_traces(params)
        except ToolFailure:
            return []
        return [summarise_trace(trace) for trace in found]

    def pods_failing(self, namespace: str, name: str) -> bool:
        """A pod of the Deployment waits to start (crash loop, image pull, config error) or
        has restarted `RESTARTS_FAILING` times or more."""
        if self.apps is None:
            return False
        try:
            deployment = self.apps.read_namespaced_deployment(name, namespace, _request_timeout=10)
            labels = (deployment.spec.selector.match_labels or {}) if deployment.spec else {}
            if not labels:
                return False
            selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            pods = self.core.list_namespaced_pod(
                namespace, label_selector=selector, _request_timeout=10
            ).items
        except (client.ApiException, OSError, ValueError):
            return False
        for pod in pods or []:
            for box in (pod.status.container_statuses if pod.status else None) or []:
                waiting = box.state.waiting if box.state else None
                if waiting is not None and waiting.reason not in STARTING:
                    return True
                if (box.restart_count or 0) >= RESTARTS_FAILING:
                    return True
        return False

    def rollouts(self, namespace: str, since: datetime) -> dict[str, datetime]:
        """Per Deployment, its newest ReplicaSet past revision 1 created since `since`."""
        if self.apps is None:
            return {}
        try:
            listed = self.apps.list_namespaced_replica_set(namespace, _request_timeout=10)
        except (client.ApiException, OSError, ValueError):
            return {}
        found: dict[str, datetime] = {}
        for rs in listed.items or []:
            meta = rs.metadata
            owner = next(
                (o.name for o in (meta.owner_references or []) if o.kind == "Deployment"), None
            )
            revision = str((meta.annotations or {}).get(REVISION, "0"))
            created = meta.creation_timestamp
            if owner is None or created is None or not revision.isdigit():
                continue
            if int(revision) > 1 and created >= since:
                found[owner] = max(created, found.get(owner, created))
        return found


def held_back(
    actions: Sequence[ProposedAction],
    evidence: FaultEvidence,
    incidents: Mapping[str, int],
    opened_at: datetime,
    now: datetime,
) -> list[tuple[ProposedAction, Elsewhere]]:
    """The workload actions among `actions` whose target's own behaviour is not at fault,
    each with why; `incidents`: the services with an open incident of their own (the
    incident being acted for left out)."""
    held = []
    rollouts: dict[str, dict[str, datetime]] = {}
    for action in actions:
        target = action.target
        if target.kind not in WORKLOAD_KINDS or target.namespace is None:
            continue
        start = opened_at - TRACE_LOOKBACK
        failing, origins = failure_origins(evidence.traces(target.name, start, now))
        if failing < MIN_FAILING or evidence.pods_failing(target.namespace, target.name):
            continue
        if target.namespace not in rollouts:
            rollouts[target.namespace] = evidence.rollouts(target.namespace, now - RECENT_CHANGE)
        found = hold_reason(target.name, failing, origins, rollouts[target.namespace], incidents)
        if found is not None:
            held.append((action, found))
    return held
