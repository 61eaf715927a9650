"""How much of an effect's cause is still in the cluster: what lets a fix show up in the
live world's generated series.

A scenario's metric effects follow the incident's clock; in a live world they also follow
the cluster, so they end where a real fix would end them:

- effects of a scenario that rolled something out come from the new version: they scale
  with the share of the faulty rolled-out deployments' running pods on the new images (a
  rollback ends them; a release marked `innocent` went out at the same time and carries
  none of the fault, so its rollback changes nothing);
- an overload (CPU saturation, latency on a service whose traffic surged) eases as serving
  capacity grows: with demand `F` times the usual and capacity `c` times what served at
  the incident start (in CPU cores when the pods have CPU limits, else in pods), the
  overloaded share is (F - c) / (F - 1) (scaling out, or raising the CPU limit, ends it);
- state built up inside a process (a full connection pool, its errors and latency) lives
  in the pods that were running during the incident: new pods start clean (a restart
  ends it);
- traffic, memory growth (the kube OOM fault follows the memory limit) and volume fill
  are not gated: their causes are outside the pods or handled by the cluster itself; nor
  is an effect marked `lasting` (its cause, such as a rotated password or an expired
  certificate, lives outside the pods: no restart or rollback ends it).
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.kube.quantity import parse_quantity
from sandbox.scenarios.catalog import Scenario
from sandbox.scenarios.frames import ClusterFrame, ClusterHistory, PodFrame
from sandbox.scenarios.spec import Effect

Gate = Callable[[Effect, float], float]
UNGATED = frozenset({"traffic", "memory_growth", "volume_fill"})
OVERLOAD = frozenset({"cpu_saturation", "latency"})


def _running(frame: ClusterFrame, workload: str) -> list[PodFrame]:
    return [
        p
        for p in frame.pods
        if p.workload == workload and p.phase == "Running" and not p.terminating
    ]


def _cpu(pod: PodFrame) -> float | None:
    """The pod's CPU limit in cores (its containers' sum); None when one has none."""
    limits = [c.limits.get("cpu") for c in pod.containers]
    if not limits or any(limit is None for limit in limits):
        return None
    return float(sum(parse_quantity(str(limit)) for limit in limits))


def serving_capacity(now: list[PodFrame], then: list[PodFrame]) -> float:
    """Serving capacity now over at the incident start: in CPU cores when every pod has a
    CPU limit (raising the limit, like scaling out, adds capacity), else in pods."""
    cores_now, cores_then = [_cpu(p) for p in now], [_cpu(p) for p in then]
    if then and all(c is not None for c in cores_now + cores_then):
        return sum(c or 0.0 for c in cores_now) / sum(c or 0.0 for c in cores_then)
    return len(now) / (len(then) or 1)


def cause_gate(scenario: Scenario, history: ClusterHistory, incident: float) -> Gate:
    """The share (0..1) of each effect's cause present at a moment, read off `history`."""
    new_images = {r.deployment: set(r.images.values()) for r in scenario.rollouts if not r.innocent}
    surge = {
        e.service: e.factor for e in scenario.spec.metrics if e.kind == "traffic" and e.factor > 1
    }
    at_start = history.at(incident)

    def rolled_out(frame: ClusterFrame) -> float:
        pods = [p for name in new_images for p in _running(frame, name)]
        if not pods:
            return 0.0
        new = [p for p in pods if any(c.image in new_images[p.workload] for c in p.containers)]
        return len(new) / len(pods)

    def overloaded(frame: ClusterFrame, service: str, factor: float) -> float:
        then = [p for p in _running(at_start, service) if p.serving]
        now = [p for p in _running(frame, service) if p.serving]
        capacity = serving_capacity(now, then)
        return min(1.0, max(0.0, (factor - capacity) / (factor - 1)))

    def from_the_incident(frame: ClusterFrame, service: str) -> float:
        pods = _running(frame, service)
        if not pods:
            return 1.0
        return len([p for p in pods if p.created <= incident]) / len(pods)

    def gate(effect: Effect, at: float) -> float:
        if effect.kind in UNGATED or effect.lasting:
            return 1.0
        frame = history.at(at)
        if new_images:
            return rolled_out(frame)
        if effect.kind in OVERLOAD and effect.service in surge:
            return overloaded(frame, effect.service, surge[effect.service])
        return from_the_incident(frame, effect.service)

    return gate
