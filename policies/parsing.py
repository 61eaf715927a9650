"""Parse what people type (`opsbot policy explain scale_deployment deployment/prod/checkout`)."""

from __future__ import annotations

from pydantic import ValidationError

from policies.actions import ActionKind, ResourceKind, ResourceRef
from policies.errors import PolicyInputError, did_you_mean

_KIND_ALIASES: dict[str, ResourceKind] = {
    "deployment": ResourceKind.DEPLOYMENT,
    "deployments": ResourceKind.DEPLOYMENT,
    "deploy": ResourceKind.DEPLOYMENT,
    "pod": ResourceKind.POD,
    "pods": ResourceKind.POD,
    "po": ResourceKind.POD,
    "node": ResourceKind.NODE,
    "nodes": ResourceKind.NODE,
    "no": ResourceKind.NODE,
    "persistentvolumeclaim": ResourceKind.PERSISTENT_VOLUME_CLAIM,
    "persistentvolumeclaims": ResourceKind.PERSISTENT_VOLUME_CLAIM,
    "pvc": ResourceKind.PERSISTENT_VOLUME_CLAIM,
    "service": ResourceKind.SERVICE,
    "services": ResourceKind.SERVICE,
    "svc": ResourceKind.SERVICE,
    "job": ResourceKind.JOB,
    "jobs": ResourceKind.JOB,
}


def parse_action_kind(text: str) -> ActionKind:
    """Read an action kind: "scale_deployment", "scale-deployment", any case."""
    normalised = text.strip().lower().replace("-", "_")
    try:
        return ActionKind(normalised)
    except ValueError:
        known = [kind.value for kind in ActionKind]
        hint = did_you_mean(normalised, known) or f"; known kinds: {', '.join(known)}"
        raise PolicyInputError(f"unknown action kind {text!r}{hint}") from None


def parse_target(text: str) -> ResourceRef:
    """Read "deployment/prod/checkout" as a ResourceRef; cluster-scoped kinds omit the namespace
    ("node/worker-1"). kubectl short names (deploy, po, no, pvc, svc) are accepted."""
    parts = text.strip().split("/")
    example = "expected KIND/NAMESPACE/NAME (deployment/prod/checkout) or node/NAME"
    if len(parts) not in (2, 3) or not all(parts):
        raise PolicyInputError(f"bad target {text!r}: {example}")
    kind = _KIND_ALIASES.get(parts[0].lower())
    if kind is None:
        hint = did_you_mean(parts[0].lower(), _KIND_ALIASES)
        known = ", ".join(k.value for k in ResourceKind)
        raise PolicyInputError(f"unknown resource kind {parts[0]!r}{hint or f'; known: {known}'}")
    if kind.namespaced and len(parts) != 3:
        raise PolicyInputError(
            f"bad target {text!r}: a {kind} needs a namespace: {kind}/NAMESPACE/NAME"
        )
    if not kind.namespaced and len(parts) != 2:
        raise PolicyInputError(f"bad target {text!r}: a {kind} is cluster-scoped: {kind}/NAME")
    namespace, name = (parts[1], parts[2]) if kind.namespaced else (None, parts[1])
    try:
        return ResourceRef(kind=kind, namespace=namespace, name=name)
    except ValidationError as error:
        reasons = "; ".join(e["msg"].removeprefix("Value error, ") for e in error.errors())
        raise PolicyInputError(f"bad target {text!r}: {reasons}") from None
