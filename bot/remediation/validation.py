"""Did the action help? Re-read the signals that prove it (what the action is for, and the
alert that raised the incident) until they clear or a deadline passes.

A signal reads as a number (how bad) or None (the condition is clear). An alert's PromQL
expression is clear when it returns no series; a workload is clear when every replica is
available and no pod is stuck waiting. Several signals read together (`AllOf`) are clear
when every one is, and worse when any one is clearly worse than it was before the action.
"Worse" is the only verdict that may undo an action; "not recovered" keeps it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx
from kubernetes import client
from kubernetes.client.exceptions import ApiException

WAITING_BAD = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerError")


class Health(StrEnum):
    RECOVERED = "recovered"
    WORSE = "worse"
    NOT_RECOVERED = "not_recovered"


@dataclass(frozen=True)
class Reading:
    """One read of a signal; `parts` holds the readings of the signals of an `AllOf`."""

    value: float | None
    note: str = ""
    error: bool = False
    parts: tuple[Reading, ...] = ()


class Signal(Protocol):
    description: str

    def read(self) -> Reading: ...


@dataclass(frozen=True)
class Judgement:
    health: Health
    baseline: Reading
    readings: tuple[Reading, ...] = field(default=())

    def describe(self) -> str:
        last = self.readings[-1] if self.readings else self.baseline
        before = "clear" if self.baseline.value is None else f"{self.baseline.value:g}"
        after = "clear" if last.value is None else f"{last.value:g}"
        return f"{self.health.replace('_', ' ')} (before {before}, last {after}; {last.note})"


def expression_of(generator_url: str) -> str | None:
    """The PromQL of an alert from its generatorURL (`.../graph?g0.expr=...`)."""
    if not generator_url:
        return None
    values = parse_qs(urlsplit(generator_url).query).get("g0.expr")
    return values[0] if values else None


class PromqlSignal:
    def __init__(self, base_url: str, expr: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.expr = expr
        self.timeout = timeout
        self.description = f"PromQL `{expr}`"

    def read(self) -> Reading:
        try:
            response = httpx.get(
                f"{self.base_url}/api/v1/query", params={"query": self.expr}, timeout=self.timeout
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return Reading(None, f"Prometheus unreachable: {exc}", error=True)
        if body.get("status") != "success":
            return Reading(None, f"Prometheus error: {body.get('error', '?')}", error=True)
        data: dict[str, Any] = body["data"]
        if data["resultType"] == "scalar":
            return Reading(float(data["result"][1]), "scalar")
        values = [float(item["value"][1]) for item in data["result"]]
        if not values:
            return Reading(None, "no series: the condition is clear")
        return Reading(max(values), f"{len(values)} series, worst {max(values):g}")


class WorkloadSignal:
    """Unavailable replicas plus pods stuck waiting (crash loops, image pulls)."""

    def __init__(self, api: client.ApiClient, namespace: str, deployment: str) -> None:
        self.apps: Any = client.AppsV1Api(api)
        self.core: Any = client.CoreV1Api(api)
        self.namespace = namespace
        self.deployment = deployment
        self.description = f"availability of deployment {namespace}/{deployment}"

    def read(self) -> Reading:
        try:
            found = self.apps.read_namespaced_deployment(self.deployment, self.namespace)
            selector = ",".join(f"{k}={v}" for k, v in found.spec.selector.match_labels.items())
            pods = self.core.list_namespaced_pod(self.namespace, label_selector=selector).items
        except ApiException as exc:
            return Reading(None, f"Kubernetes error {exc.status}", error=True)
        wanted = int(found.spec.replicas if found.spec.replicas is not None else 1)
        status = found.status
        available = int((status and status.available_replicas) or 0)
        updated = int((status and status.updated_replicas) or 0)
        stuck = sum(
            1
            for pod in pods
            for cs in (pod.status.container_statuses or [])
            if cs.state and cs.state.waiting and cs.state.waiting.reason in WAITING_BAD
        )
        unavailable = max(0, wanted - available)
        rolling = updated < wanted or int((status and status.replicas) or 0) > wanted
        if unavailable == 0 and stuck == 0 and not rolling:
            return Reading(None, f"{available}/{wanted} available")
        return Reading(
            float(unavailable + stuck),
            f"{available}/{wanted} available, {stuck} pods stuck"
            + (", rollout in progress" if rolling else ""),
        )


class AllOf:
    """Several signals read as one: clear when all are, the parts kept for judging."""

    def __init__(self, *signals: Signal) -> None:
        self.signals = signals
        self.description = " and ".join(s.description for s in signals)

    def read(self) -> Reading:
        parts = tuple(signal.read() for signal in self.signals)
        values = [p.value for p in parts if p.value is not None]
        note = "; ".join(p.note for p in parts if p.note)
        return Reading(
            max(values) if values else None,
            note,
            error=any(p.error for p in parts),
            parts=parts,
        )


def judge(baseline: Reading, current: Reading, worse_ratio: float) -> Health:
    """Recovered when clear; worse when clearly above the reading before the action (any
    reading above zero when it was clear before: a new failure); else not recovered. A
    failed read is never recovered and never worse. An `AllOf` is judged part by part:
    worse when any part is, recovered when all are."""
    if current.parts and len(current.parts) == len(baseline.parts):
        verdicts = [
            judge(before, now, worse_ratio)
            for before, now in zip(baseline.parts, current.parts, strict=True)
        ]
        if Health.WORSE in verdicts:
            return Health.WORSE
        return (
            Health.RECOVERED
            if all(v is Health.RECOVERED for v in verdicts)
            else Health.NOT_RECOVERED
        )
    if current.error:
        return Health.NOT_RECOVERED
    if current.value is None:
        return Health.RECOVERED
    before = baseline.value if baseline.value is not None and not baseline.error else 0.0
    worse = current.value > 0 and current.value > before * (1 + worse_ratio)
    return Health.WORSE if worse else Health.NOT_RECOVERED


Progress = Callable[[int, int, Reading, Health], None]
"""Told after each reading: (reading number, most readings before the deadline, the
reading, its verdict); the executor shows it on the card."""


def planned_readings(deadline_seconds: float, interval_seconds: float) -> int:
    """How many readings a watch takes at most before its deadline (holds aside)."""
    return int(deadline_seconds // interval_seconds) + 1


def watch(
    signal: Signal,
    baseline: Reading,
    *,
    deadline_seconds: float,
    interval_seconds: float,
    worse_ratio: float,
    hold_seconds: float = 0.0,
    confirmations: int = 2,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Progress | None = None,
) -> Judgement:
    """Poll until the signal has stayed clear for `hold_seconds` (a crash loop looks clear
    between crashes), `confirmations` consecutive worse readings, or the deadline. A hold
    that starts before the deadline may finish after it."""
    readings: list[Reading] = []
    worse_in_a_row = 0
    clear_since: float | None = None
    end = clock() + deadline_seconds
    planned = planned_readings(deadline_seconds, interval_seconds)
    while True:
        reading = signal.read()
        readings.append(reading)
        now = clock()
        health = judge(baseline, reading, worse_ratio)
        if progress is not None:
            progress(len(readings), max(planned, len(readings)), reading, health)
        if health is Health.RECOVERED:
            clear_since = now if clear_since is None else clear_since
            if now - clear_since >= hold_seconds:
                return Judgement(health, baseline, tuple(readings[-5:]))
        else:
            clear_since = None
        worse_in_a_row = worse_in_a_row + 1 if health is Health.WORSE else 0
        if worse_in_a_row >= confirmations:
            return Judgement(Health.WORSE, baseline, tuple(readings[-5:]))
        limit = end if clear_since is None else max(end, clear_since + hold_seconds)
        if now >= limit:
            return Judgement(Health.NOT_RECOVERED, baseline, tuple(readings[-5:]))
        sleep(min(interval_seconds, max(0.0, limit - now)))
