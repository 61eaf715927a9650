"""Rule: a process runs out of memory in its own words with no kernel OOM kill.

A JVM throws `OutOfMemoryError: Java heap space` and thrashes in full GCs, a Python worker
raises `MemoryError`, a .NET service `OutOfMemoryException`: the heap is sized as a share of
the container's limit (or by a flag) and is exhausted before the container's cgroup is, so
no pod is OOMKilled and `oom_kill` sees nothing. The same split applies: a release just
before the errors began points at a leak (roll back); without one the limit is undersized
for today's working set (raise it, RISKY); a restart only resets the clock.
"""

from __future__ import annotations

import math
from collections import Counter

from bot.investigation.patterns.base import (
    Candidate,
    RuleContext,
    action,
    pods_of,
    raise_limit,
)
from bot.investigation.patterns.log_signatures import Failure, classify
from bot.investigation.patterns.observe import Observations, workload_of_pod_owner
from bot.investigation.patterns.rules_signatures import release_of
from policies import ActionKind

WITH_RELEASE = 0.75
WITHOUT_RELEASE = 0.7
NEAR_LIMIT = 0.9  # of the memory limit: the working set presses on it


def _memory_share(obs: Observations) -> float | None:
    """The focus's working set over its limit, now (the latest finite reading)."""
    data = obs.ranges.get("memory_usage_ratio")
    values = [v for s in (data.series if data else []) for _, v in s.values if math.isfinite(v)]
    return values[-1] if values else None


def heap_exhausted(obs: Observations, ctx: RuleContext) -> Candidate | None:
    """Out-of-memory errors a service logs itself while none of its pods is OOM-killed."""
    pods = pods_of(obs)
    killed = [
        c
        for p in pods
        for c in p.containers
        if "OOMKilled" in (c.last_termination_reason, c.reason)
    ]
    if killed:
        return None  # the kernel killed it: oom_kill says more
    groups = obs.top_errors.groups if obs.top_errors else []
    writers: Counter[str] = Counter()
    example = ""
    for group in groups:
        if classify(group.message) is Failure.OOM:
            writers.update(group.services)
            example = example or group.message
    if not writers:
        return None
    service, count = writers.most_common(1)[0]
    own_pods = [p for p in pods if workload_of_pod_owner(p.owner) == service]
    container = own_pods[0].containers[0].name if own_pods and own_pods[0].containers else service
    share = _memory_share(obs) if service == obs.service else None
    pressed = (
        f" Its working set is {share:.0%} of the container's memory limit."
        if share is not None
        else ""
    )
    evidence = obs.cite("top_errors", "metric:memory_usage_ratio", "pods", "deployment")
    summary = (
        f"{service} runs out of memory inside the process ({count} error line(s), e.g. "
        f'"{example[:160]}"); no pod was OOM-killed.'
    )
    release = release_of(obs, service, ctx.now)
    if release is not None:
        cause = (
            f"Since the release of {service} (revision {release.revision}, {release.what}) at "
            f"{release.at:%H:%M}Z its heap is exhausted: the process fails allocations and "
            f"spends its time collecting garbage instead of serving.{pressed} A leak or a "
            "bigger working set came with the release."
        )
        return Candidate(
            "heap_exhausted",
            summary,
            cause,
            WITH_RELEASE,
            evidence,
            action(
                obs,
                ctx,
                ActionKind.ROLLBACK_DEPLOYMENT,
                service,
                f"the out-of-memory errors began after revision {release.revision}; a restart "
                "or a bigger limit only delays them",
                WITH_RELEASE,
            ),
            ["A restart only resets the clock; find what the release keeps in memory."],
        )
    confidence = WITH_RELEASE if share is not None and share >= NEAR_LIMIT else WITHOUT_RELEASE
    cause = (
        f"The heap of {service} is too small for its working set (no release of {service} "
        f"explains it): allocations fail and the process thrashes in garbage collection."
        f"{pressed}"
    )
    own = service in (obs.service, obs.deployment.name if obs.deployment else None)
    return Candidate(
        "heap_exhausted",
        summary,
        cause,
        confidence,
        evidence,
        raise_limit(
            obs,
            ctx,
            (service, container),
            "memory",
            f"raise the memory limit of {container} from {{before}} to {{after}}: a heap "
            "sized from the limit grows with it",
            confidence,
        )
        if own
        else [],
        [
            "A heap set by a flag (-Xmx, --max-old-space-size) needs that flag raised with the "
            "limit; a restart only resets the clock.",
        ],
    )
