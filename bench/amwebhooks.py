"""Alertmanager webhook bodies (version 4) for the load benches: one group's batch, firing
or resolved, and a storm of them over many problems."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any, Literal

ALERTS_PER_WEBHOOK = 5
NAMES = ("HighErrorRate", "HighLatency", "PodCrashLooping", "KubePodNotReady")
NEVER = "0001-01-01T00:00:00Z"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook(
    name: str,
    namespace: str,
    service: str,
    pods: list[str],
    *,
    status: Literal["firing", "resolved"] = "firing",
    starts: datetime | None = None,
    severity: str = "critical",
) -> dict[str, Any]:
    """One alert group (`alertname` + `service`) as Alertmanager posts it, one alert a pod;
    a resolved group's alerts carry their end time."""
    started = rfc3339(starts or datetime.now(UTC))
    ends = rfc3339(datetime.now(UTC)) if status == "resolved" else NEVER
    alerts = [
        {
            "status": status,
            "labels": {
                "alertname": name,
                "namespace": namespace,
                "service": service,
                "severity": severity,
                "pod": pod,
            },
            "annotations": {"summary": f"{name} on {service}"},
            "startsAt": started,
            "endsAt": ends,
            "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        }
        for pod in pods
    ]
    return {
        "receiver": "opsbot",
        "status": status,
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}", service="{service}"}}',
        "groupLabels": {"alertname": name, "service": service},
        "commonLabels": {"alertname": name, "service": service},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
        "alerts": alerts,
    }


def build_webhooks(alerts: int, problems: int, seed: int = 7) -> list[tuple[int, dict[str, Any]]]:
    """(problem index, webhook body) in storm order: each problem's first webhook appears at
    a staggered position, the rest interleave."""
    rng = random.Random(seed)
    per_problem = alerts // problems
    hooks: list[list[tuple[int, dict[str, Any]]]] = []
    starts = datetime.now(UTC)
    for p in range(problems):
        ns, svc = f"ns-{p % 5}", f"svc-{p:02d}"
        mine = []
        for start in range(0, per_problem, ALERTS_PER_WEBHOOK):
            name = NAMES[(start // ALERTS_PER_WEBHOOK) % len(NAMES)]
            pods = [
                f"{svc}-5d8f7c9b4-{i:05d}"
                for i in range(start, min(start + ALERTS_PER_WEBHOOK, per_problem))
            ]
            mine.append((p, webhook(name, ns, svc, pods, starts=starts)))
        hooks.append(mine)
    order: list[tuple[int, dict[str, Any]]] = []
    active: list[list[tuple[int, dict[str, Any]]]] = []
    pending = list(hooks)
    total = sum(len(h) for h in hooks)
    stagger = max(1, total // problems)
    while pending or any(active):
        if pending and (len(order) % stagger == 0 or not any(active)):
            active.append(pending.pop(0))
        choices = [a for a in active if a]
        chosen = rng.choice(choices)
        order.append(chosen.pop(0))
    return order
