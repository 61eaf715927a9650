"""What a rule sees and returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from bot.investigation.agent.finding import MetricChange
from bot.investigation.agent.proposals import make_action
from bot.investigation.patterns.observe import Observations, deployment_of_pod_owner
from policies import ActionKind, ProposedAction
from policies.quantities import parse_cpu, parse_memory
from tools.base import Evidence
from tools.k8s.deployments import RevisionInfo
from tools.k8s.pods import PodInfo
from tools.k8s.workload_resources import ContainerResources


@dataclass(frozen=True)
class RuleContext:
    now: datetime
    incident_id: int | None
    changes: tuple[MetricChange, ...]


@dataclass
class Candidate:
    rule: str
    summary: str
    root_cause: str
    confidence: float
    evidence: list[Evidence]
    actions: list[ProposedAction] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    suspects: list[str] = field(default_factory=list)
    """Services in the order this rule implicates them (empty: only the one it names)."""
    fault_kind: str | None = None
    """The kind of fault at the named service (``FaultKind``), when the rule knows it."""


Rule = Callable[[Observations, RuleContext], Candidate | None]


def action(
    obs: Observations,
    ctx: RuleContext,
    kind: ActionKind,
    name: str,
    reason: str,
    confidence: float,
    params: dict[str, Any] | None = None,
) -> list[ProposedAction]:
    """One proposal in the observed namespace, or none when it does not validate."""
    replicas = obs.deployment.desired if obs.deployment and obs.deployment.name == name else None
    try:
        proposal = make_action(
            kind,
            name=name,
            namespace=obs.namespace,
            params=params,
            reason=reason,
            confidence=confidence,
            incident_id=ctx.incident_id,
            replicas=replicas,
            prefix="pattern",
        )
    except ValidationError:
        return []
    return [proposal]


def pods_of(obs: Observations) -> list[PodInfo]:
    return list(obs.pods.pods) if obs.pods else []


def workload_of(obs: Observations, pods: list[PodInfo]) -> str | None:
    """The deployment the pods belong to: the scope's service, else their owner."""
    owners = [deployment_of_pod_owner(p.owner) for p in pods]
    named = [o for o in owners if o]
    if named:
        return max(set(named), key=named.count)
    return obs.service


def current_revision(obs: Observations) -> RevisionInfo | None:
    if obs.deployment is None or not obs.deployment.revisions:
        return None
    return next((r for r in obs.deployment.revisions if r.current), obs.deployment.revisions[0])


def previous_revision(obs: Observations) -> RevisionInfo | None:
    current = current_revision(obs)
    if current is None or obs.deployment is None:
        return None
    older = [r for r in obs.deployment.revisions if r.revision < current.revision]
    return max(older, key=lambda r: r.revision) if older else None


def top_error_of(obs: Observations, service: str | None) -> str | None:
    """The most frequent error message `service` logged, to say what failed."""
    for group in obs.top_errors.groups if obs.top_errors else []:
        if service and service in group.services:
            return group.message[:200]
    return None


def image_tags(images: list[str]) -> str:
    """`1.9.0` from `registry.example.com/shop/checkout:1.9.0` (comma-joined)."""
    return ", ".join(image.rsplit(":", 1)[-1] for image in images if ":" in image)


def _millicores(value: float) -> str:
    return f"{max(1, round(value * 1000))}m"


def _mebibytes(value: float) -> str:
    return f"{max(1, round(value / 2**20))}Mi"


_QUANTITY_TEXT: dict[str, Callable[[float], str]] = {"cpu": _millicores, "memory": _mebibytes}


@dataclass(frozen=True)
class DoubledLimit:
    """`set_resources` parameters that double one resource's limit of a container and keep
    every other request and limit as it is (previous values alongside)."""

    params: dict[str, str]
    before: str
    after: str


def raise_limit(
    obs: Observations,
    ctx: RuleContext,
    target: tuple[str, str],
    resource: str,
    why: str,
    confidence: float,
) -> list[ProposedAction]:
    """set_resources doubling the `resource` limit of `target` (workload, container), every
    other request and limit kept; `why` is the reason, with `{before}` and `{after}` filled
    in from the limits read: the focus's from kube-state-metrics, another workload's from
    its pod template (`Observations.workload_resources`). None when they were not read."""
    workload, container = target
    if workload in (obs.service, obs.deployment.name if obs.deployment else None):
        doubled = doubled_limit(obs, resource, container)
    else:
        spec = template_container(obs, workload, container)
        doubled = doubled_spec_limit(spec, resource) if spec is not None else None
    if doubled is None:
        return []
    reason = why.format(before=doubled.before, after=doubled.after)
    return action(obs, ctx, ActionKind.SET_RESOURCES, workload, reason, confidence, doubled.params)


def doubled_limit(obs: Observations, resource: str, container: str) -> DoubledLimit | None:
    """The container's `resource` ("cpu" or "memory") limit doubled, read from the
    kube-state-metrics requests and limits the investigation gathered; None without one."""
    found = {
        kind: {
            s.labels.get("resource", ""): s.value
            for s in (obs.instants[signal].samples if signal in obs.instants else [])
        }
        for kind, signal in (("request", "resource_requests"), ("limit", "resource_limits"))
    }
    return _doubled(found, resource, container)


def template_container(
    obs: Observations, workload: str, container: str
) -> ContainerResources | None:
    """`container` of `workload`'s pod template, when its resources were read (an
    OOM-killed workload that is not the focus, `Observations.workload_resources`)."""
    read = obs.workload_resources.get(workload)
    return next((c for c in read.containers if c.name == container), None) if read else None


def quantity_text(resource: str, value: float) -> str:
    """A CPU (cores) or memory (bytes) amount as the actions write it: `700m`, `512Mi`."""
    return _QUANTITY_TEXT[resource](value)


def doubled_spec_limit(spec: ContainerResources, resource: str) -> DoubledLimit | None:
    """The same, read from the pod template's own requests and limits (a workload other than
    the focus, whose kube-state-metrics series were not gathered); None without a limit."""
    found = {
        kind: {name: amount for name, text in values.items() if (amount := amount_of(name, text))}
        for kind, values in (("request", spec.requests), ("limit", spec.limits))
    }
    return _doubled(found, resource, spec.name)


def amount_of(resource: str, text: str) -> float | None:
    """A CPU (cores) or memory (bytes) quantity as written in a spec; None for another
    resource or a spelling the action could not write back."""
    parse = {"cpu": parse_cpu, "memory": parse_memory}.get(resource)
    try:
        return float(parse(text)) if parse else None
    except ValueError:
        return None


def _doubled(
    found: dict[str, dict[str, float]], resource: str, container: str
) -> DoubledLimit | None:
    limit = found["limit"].get(resource)
    if limit is None:
        return None
    text = _QUANTITY_TEXT[resource]
    params = {"container": container}
    for kind, values in found.items():
        for name, value in values.items():
            if name in _QUANTITY_TEXT:
                shown = _QUANTITY_TEXT[name](value)
                params[f"{name}_{kind}"] = params[f"previous_{name}_{kind}"] = shown
    params[f"{resource}_limit"] = text(limit * 2)
    return DoubledLimit(params, text(limit), text(limit * 2))
