"""Pure rules: which Kubernetes objects are in trouble, as alert-shaped problems.

Labels follow kube-state-metrics alert conventions (namespace, pod, container) plus the
owning `deployment`, so the incident rules group a watcher problem and an Alertmanager
alert about the same workload into one incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SOURCE = "opsbot-watcher"
BAD_PULLS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName")


@dataclass(frozen=True)
class Problem:
    key: str
    alertname: str
    labels: dict[str, str]
    summary: str
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class Observation:
    """What one object says now: its open problems and the keys it has cleared."""

    problems: list[Problem] = field(default_factory=list)
    healthy: list[str] = field(default_factory=list)


def _deployment_of(pod: Any) -> str | None:
    labels = pod.metadata.labels or {}
    template_hash = labels.get("pod-template-hash")
    for owner in pod.metadata.owner_references or []:
        if owner.kind == "ReplicaSet" and template_hash:
            return str(owner.name).removesuffix(f"-{template_hash}")
    return None


def pod_key(namespace: str, pod: str, container: str) -> str:
    return f"pod:{namespace}/{pod}/{container}"


def pod_observation(pod: Any) -> Observation:
    meta = pod.metadata
    namespace, name = str(meta.namespace), str(meta.name)
    deployment = _deployment_of(pod)
    found = Observation()
    for status in (pod.status and pod.status.container_statuses) or []:
        key = pod_key(namespace, name, status.name)
        waiting = status.state.waiting if status.state else None
        reason = waiting.reason if waiting else None
        last = status.last_state.terminated if status.last_state else None
        labels = {
            "namespace": namespace,
            "pod": name,
            "container": str(status.name),
            "severity": "critical",
            "source": SOURCE,
            **({"deployment": deployment} if deployment else {}),
        }
        where = f"{namespace}/{name} ({status.name})"
        if reason in BAD_PULLS:
            labels["reason"] = str(reason)
            found.problems.append(
                Problem(key, "KubePodImagePullBackOff", labels, f"{where} cannot pull its image")
            )
        elif reason == "CrashLoopBackOff" and last is not None and last.reason == "OOMKilled":
            labels["reason"] = "OOMKilled"
            found.problems.append(
                Problem(key, "KubePodOOMKilled", labels, f"{where} is OOMKilled in a crash loop")
            )
        elif reason == "CrashLoopBackOff":
            labels["reason"] = "CrashLoopBackOff"
            found.problems.append(
                Problem(key, "KubePodCrashLooping", labels, f"{where} is in CrashLoopBackOff")
            )
        elif status.ready:
            found.healthy.append(key)
    return found


def node_observation(node: Any, not_ready_seconds: float) -> Observation:
    name = str(node.metadata.name)
    key = f"node:{name}"
    ready = next(
        (c for c in (node.status and node.status.conditions) or [] if c.type == "Ready"), None
    )
    if ready is None or ready.status == "True":
        return Observation(healthy=[key])
    labels = {"node": name, "severity": "critical", "source": SOURCE, "reason": "NotReady"}
    summary = f"node {name} is NotReady ({ready.reason or ready.status})"
    return Observation(
        problems=[Problem(key, "KubeNodeNotReady", labels, summary, not_ready_seconds)]
    )


def deployment_observation(deployment: Any) -> Observation:
    namespace, name = str(deployment.metadata.namespace), str(deployment.metadata.name)
    key = f"rollout:{namespace}/{name}"
    progressing = next(
        (
            c
            for c in (deployment.status and deployment.status.conditions) or []
            if c.type == "Progressing"
        ),
        None,
    )
    if progressing is not None and progressing.reason == "ProgressDeadlineExceeded":
        labels = {
            "namespace": namespace,
            "deployment": name,
            "severity": "critical",
            "source": SOURCE,
            "reason": "ProgressDeadlineExceeded",
        }
        summary = f"the rollout of {namespace}/{name} failed (progress deadline exceeded)"
        return Observation(problems=[Problem(key, "KubeDeploymentRolloutFailed", labels, summary)])
    return Observation(healthy=[key])


def deleted_keys(kind: str, obj: Any) -> list[str]:
    """Problems an object's deletion ends."""
    meta = obj.metadata
    if kind == "pods":
        statuses = (obj.status and obj.status.container_statuses) or []
        names = [s.name for s in statuses] or [c.name for c in obj.spec.containers]
        return [pod_key(str(meta.namespace), str(meta.name), str(n)) for n in names]
    if kind == "nodes":
        return [f"node:{meta.name}"]
    return [f"rollout:{meta.namespace}/{meta.name}"]
