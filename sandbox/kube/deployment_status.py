"""Pure rollout arithmetic and the Deployment status the controller reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.kube.clock import format_time, parse_time
from sandbox.kube.objects import clone, get_condition, resolve_scaled_value, set_condition

JsonDict = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
PROGRESSING = "Progressing"


def revision_of(obj: JsonDict) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def surge_and_unavailable(deployment: JsonDict) -> tuple[int, int]:
    """maxSurge rounds up, maxUnavailable down; both zero means one may be unavailable."""
    spec = deployment["spec"]
    replicas = int(spec.get("replicas", 1))
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0, replicas
    rolling = strategy.get("rollingUpdate") or {}
    surge = resolve_scaled_value(rolling.get("maxSurge", "25%"), replicas, round_up=True)
    unavailable = resolve_scaled_value(
        rolling.get("maxUnavailable", "25%"), replicas, round_up=False
    )
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


def spec_replicas(rs: JsonDict) -> int:
    return int(rs["spec"].get("replicas", 0))


def available_replicas(rs: JsonDict) -> int:
    return int((rs.get("status") or {}).get("availableReplicas", 0))


def _total(field: str, sets: list[JsonDict]) -> int:
    return sum(int((rs.get("status") or {}).get(field, 0)) for rs in sets)


def deployment_status(
    deployment: JsonDict,
    owned: list[JsonDict],
    new_rs: JsonDict | None,
    now: datetime,
    progress_reason: tuple[str, str] | None,
) -> JsonDict:
    """The status the deployment controller writes (zero counts omitted, as Go's omitempty)."""
    old_status = deployment.get("status") or {}
    replicas = int(deployment["spec"].get("replicas", 1))
    _, unavailable = surge_and_unavailable(deployment)
    available = _total("availableReplicas", owned)
    counts = {
        "observedGeneration": int(deployment["metadata"].get("generation", 1)),
        "replicas": _total("replicas", owned),
        "updatedReplicas": _total("replicas", [new_rs]) if new_rs else 0,
        "readyReplicas": _total("readyReplicas", owned),
        "availableReplicas": available,
        "unavailableReplicas": max(sum(spec_replicas(rs) for rs in owned) - available, 0),
    }
    status: JsonDict = {key: value for key, value in counts.items() if value}
    status["conditions"] = clone(old_status.get("conditions") or [])
    if old_status.get("collisionCount"):
        status["collisionCount"] = old_status["collisionCount"]
    if available >= replicas - unavailable:
        reason, message, value = (
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            "True",
        )
    else:
        reason, message, value = (
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            "False",
        )
    set_condition(status, "Available", value, now, reason, message, update_time=True)
    _progressing(deployment, status, old_status, counts, new_rs, progress_reason, now)
    status["conditions"].sort(key=lambda c: 0 if c["type"] == "Available" else 1)
    return status


def _progressing(
    deployment: JsonDict,
    status: JsonDict,
    old_status: JsonDict,
    counts: dict[str, int],
    new_rs: JsonDict | None,
    progress_reason: tuple[str, str] | None,
    now: datetime,
) -> None:
    rs_name = new_rs["metadata"]["name"] if new_rs else ""
    replicas = int(deployment["spec"].get("replicas", 1))
    if deployment["spec"].get("paused"):
        set_condition(
            status,
            PROGRESSING,
            "Unknown",
            now,
            "DeploymentPaused",
            "Deployment is paused",
            update_time=True,
        )
        return
    if progress_reason:
        set_condition(status, PROGRESSING, "True", now, *progress_reason, update_time=True)
        return
    complete = (
        counts["updatedReplicas"] == counts["replicas"] == counts["availableReplicas"] == replicas
    )
    old_updated = int(old_status.get("updatedReplicas", 0))
    old_others = int(old_status.get("replicas", 0)) - old_updated
    progressed = (
        counts["updatedReplicas"] > old_updated
        or counts["replicas"] - counts["updatedReplicas"] < old_others
        or counts["readyReplicas"] > int(old_status.get("readyReplicas", 0))
        or counts["availableReplicas"] > int(old_status.get("availableReplicas", 0))
    )
    current = get_condition(status, PROGRESSING)
    if complete:
        message = f'ReplicaSet "{rs_name}" has successfully progressed.'
        set_condition(
            status, PROGRESSING, "True", now, "NewReplicaSetAvailable", message, update_time=True
        )
    elif progressed or current is None:
        message = f'ReplicaSet "{rs_name}" is progressing.'
        condition = set_condition(
            status, PROGRESSING, "True", now, "ReplicaSetUpdated", message, update_time=True
        )
        condition["lastUpdateTime"] = format_time(now)
    elif current.get("reason") not in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded"):
        deadline = int(deployment["spec"].get("progressDeadlineSeconds", 600))
        last = parse_time(current.get("lastUpdateTime") or current["lastTransitionTime"])
        if (now - last).total_seconds() > deadline:
            message = f'ReplicaSet "{rs_name}" has timed out progressing.'
            set_condition(
                status,
                PROGRESSING,
                "False",
                now,
                "ProgressDeadlineExceeded",
                message,
                update_time=True,
            )
