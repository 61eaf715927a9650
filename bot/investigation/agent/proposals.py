"""Turning proposals into the policies vocabulary, and refusing what does not fit.

Only kind, target, params and reason come from the proposer; the proposer id, confidence,
blast radius and incident are set by code. A target must have been seen in the data (the
grounding text), so nothing the model says can point an action somewhere new.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from policies import ActionKind, BlastRadius, ProposedAction, ResourceKind

KIND_TARGET: dict[ActionKind, ResourceKind] = {
    ActionKind.RESTART_DEPLOYMENT: ResourceKind.DEPLOYMENT,
    ActionKind.DELETE_POD: ResourceKind.POD,
    ActionKind.SCALE_DEPLOYMENT: ResourceKind.DEPLOYMENT,
    ActionKind.ROLLBACK_DEPLOYMENT: ResourceKind.DEPLOYMENT,
    ActionKind.PAUSE_ROLLOUT: ResourceKind.DEPLOYMENT,
    ActionKind.RESUME_ROLLOUT: ResourceKind.DEPLOYMENT,
    ActionKind.CORDON_NODE: ResourceKind.NODE,
    ActionKind.UNCORDON_NODE: ResourceKind.NODE,
    ActionKind.HTTP_HOOK: ResourceKind.DEPLOYMENT,
    ActionKind.EXPAND_VOLUME: ResourceKind.PERSISTENT_VOLUME_CLAIM,
    ActionKind.SET_RESOURCES: ResourceKind.DEPLOYMENT,
    ActionKind.DELETE_JOB: ResourceKind.JOB,
    ActionKind.DELETE_PVC: ResourceKind.PERSISTENT_VOLUME_CLAIM,
}


def seen_in(name: str, text: str) -> bool:
    """`name` occurs in `text` as a whole Kubernetes name (not inside a longer one)."""
    if not name:
        return False
    return re.search(rf"(?<![a-z0-9.-]){re.escape(name)}(?![a-z0-9-]|\.[a-z0-9])", text) is not None


def blast_radius(kind: ActionKind, replicas: int | None) -> BlastRadius:
    """A conservative estimate from the kind and the workload's replica count, if known."""
    pods = max(1, replicas or 1)
    if kind is ActionKind.CORDON_NODE or kind is ActionKind.UNCORDON_NODE:
        return BlastRadius(pods_affected=0, workload_share=0.0, nodes_touched=1)
    if kind is ActionKind.DELETE_POD:
        return BlastRadius(pods_affected=1, replicas_affected=1, workload_share=1.0 / pods)
    if kind in (ActionKind.EXPAND_VOLUME, ActionKind.DELETE_JOB, ActionKind.DELETE_PVC):
        return BlastRadius(pods_affected=0, workload_share=0.0)
    return BlastRadius(pods_affected=pods, replicas_affected=pods, workload_share=1.0)


def action_id(prefix: str, kind: str, target: str, params: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(
        json.dumps([kind, target, params], sort_keys=True, default=str).encode()
    ).hexdigest()[:10]
    return f"{prefix}-{kind}-{digest}"[:128]


def make_action(
    kind: ActionKind,
    *,
    name: str,
    namespace: str | None,
    params: Mapping[str, Any] | None = None,
    reason: str,
    confidence: float,
    incident_id: int | None,
    replicas: int | None = None,
    prefix: str = "agent",
) -> ProposedAction:
    """A proposal from code (the pattern engine): raises ValidationError when invalid."""
    target_kind = KIND_TARGET[kind]
    target = {
        "kind": target_kind,
        "namespace": namespace if target_kind.namespaced else None,
        "name": name,
    }
    return ProposedAction.model_validate(
        {
            "id": action_id(prefix, kind, f"{namespace}/{name}", params or {}),
            "kind": kind,
            "target": target,
            "params": dict(params or {}),
            "reason": reason[:500],
            "proposer": "agent",
            "confidence": confidence,
            "blast_radius": blast_radius(kind, replicas),
            "incident_id": str(incident_id) if incident_id is not None else None,
        }
    )


def validate_proposals(
    raw: Any,
    *,
    grounding: str,
    confidence: float,
    incident_id: int | None,
    replicas: Mapping[str, int],
) -> tuple[list[ProposedAction], list[str]]:
    """Proposals the model made, checked; every dropped one leaves a note saying why."""
    if not isinstance(raw, list):
        return [], ([] if raw is None else ["proposed_actions was not a list; ignored"])
    kept: list[ProposedAction] = []
    notes: list[str] = []
    for index, item in enumerate(raw):
        label = f"proposal {index + 1}"
        if not isinstance(item, Mapping):
            notes.append(f"{label} dropped: not an object")
            continue
        try:
            kind = ActionKind(str(item.get("kind")))
        except ValueError:
            notes.append(f"{label} dropped: {item.get('kind')!r} is not an action opsbot knows")
            continue
        target = item.get("target")
        if not isinstance(target, Mapping) or not isinstance(target.get("name"), str):
            notes.append(f"{label} ({kind}) dropped: no target name")
            continue
        name, namespace = target["name"], target.get("namespace")
        unseen = [v for v in (name, namespace) if isinstance(v, str) and not seen_in(v, grounding)]
        if unseen:
            notes.append(f"{label} ({kind}) dropped: {unseen[0]!r} was not seen in the data")
            continue
        params = item.get("params") or {}
        try:
            action = make_action(
                kind,
                name=name,
                namespace=namespace if isinstance(namespace, str) else None,
                params=params if isinstance(params, Mapping) else {"invalid": params},
                reason=str(item.get("reason") or ""),
                confidence=confidence,
                incident_id=incident_id,
                replicas=replicas.get(name),
            )
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in problem["loc"])
            notes.append(f"{label} ({kind} {name}) dropped: {where} {problem['msg']}".strip())
            continue
        if all(action.id != other.id for other in kept):
            kept.append(action)
    return kept, notes


PARAMS_HELP = (
    "scale_deployment: {replicas, previous_replicas}; rollback_deployment: {to_revision} "
    "(omit for the previous revision); expand_volume: {new_size, e.g. 20Gi}; http_hook: "
    "{hook}; delete_pod: {grace_period_seconds}; set_resources: {container, cpu_request, "
    "cpu_limit, memory_request, memory_limit, e.g. 250m / 256Mi}; every other kind: {}."
)


def submit_finding_tool() -> dict[str, Any]:
    """The schema the final answer must follow (its kinds are the closed ActionKind set)."""
    return {
        "name": "submit_finding",
        "description": "Submit the result of the investigation. Call exactly once, last.",
        "input_schema": {
            "type": "object",
            "properties": {
                "summary": {"type": "string", "description": "One or two sentences."},
                "root_cause": {"type": "string", "description": "The most likely cause."},
                "confidence": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                    "description": "From what you observed, on the scale in the instructions.",
                },
                "evidence": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Ids of the tool calls (toolu_...) whose results you used.",
                },
                "proposed_actions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "kind": {"type": "string", "enum": [k.value for k in ActionKind]},
                            "target": {
                                "type": "object",
                                "properties": {
                                    "namespace": {"type": "string"},
                                    "name": {"type": "string"},
                                },
                                "required": ["name"],
                            },
                            "params": {"type": "object", "description": PARAMS_HELP},
                            "reason": {"type": "string"},
                        },
                        "required": ["kind", "target", "reason"],
                    },
                },
                "recommendations": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Advice that is not one of the action kinds.",
                },
                "ruled_out": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Causes you checked in the data that did not fit, a few "
                    "words each (e.g. 'node pressure', 'OOM kills').",
                },
                "not_checked": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "What you could not check and why, a few words each "
                    "(e.g. 'traces: Jaeger unavailable').",
                },
            },
            "required": ["summary", "root_cause", "confidence", "evidence"],
        },
    }
