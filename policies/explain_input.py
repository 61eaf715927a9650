"""The action `opsbot policy explain` evaluates, built from what was typed.

Params are optional (`key=value` words): most rules do not read them, and those that do
(`min_replicas`/`max_replicas`) match any value when the params are unknown, as the engine
does for a kind without them. So `explain scale_deployment deployment/prod/payments` answers
for any replica count, and `explain scale_deployment ... replicas=60` for that one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from policies.actions import (
    AGENT,
    PARAMS_MODEL,
    TARGET_KINDS,
    ActionKind,
    BlastRadius,
    NoParams,
    ProposedAction,
    ResourceRef,
)
from policies.errors import PolicyInputError

UNKNOWN_PARAMS_NOTE = (
    "Params: none given, so rules that read them (min_replicas, max_replicas) match any "
    "value; add key=value (e.g. replicas=4) to check one."
)


@dataclass(frozen=True)
class ExplainedAction:
    action: ProposedAction
    params_unknown: bool  # the kind takes params and none were given


def parse_params(words: Sequence[str]) -> dict[str, str]:
    """`["replicas=4", "previous_replicas=2"]` as a mapping; anything else is an input error."""
    params: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key.strip():
            raise PolicyInputError(f"bad param {word!r}: expected key=value, e.g. replicas=4")
        params[key.strip()] = value.strip()
    return params


def explained_action(
    kind: ActionKind,
    target: ResourceRef,
    params: Mapping[str, str] | None = None,
    *,
    confidence: float = 0.9,
    pods: int = 1,
    share: float = 0.34,
    reason: str = "opsbot policy explain",
) -> ExplainedAction:
    """The action to evaluate; raises PolicyInputError on a wrong target kind, bad params or
    an out-of-range number."""
    if target.kind not in TARGET_KINDS[kind]:
        allowed = ", ".join(sorted(TARGET_KINDS[kind]))
        raise PolicyInputError(f"{kind} targets a {allowed}, not a {target.kind}")
    if not 0.0 <= confidence <= 1.0:
        raise PolicyInputError(f"confidence {confidence} is not within 0..1")
    try:
        blast = BlastRadius(pods_affected=pods, workload_share=share)
    except ValidationError as error:
        raise PolicyInputError(f"bad blast radius: {_reasons(error)}") from None
    if params or _takes_no_required_params(kind):
        try:
            action = ProposedAction(
                id="explain",
                kind=kind,
                target=target,
                params=PARAMS_MODEL[kind].model_validate(dict(params or {})),
                proposer=AGENT,
                confidence=confidence,
                reason=reason,
                blast_radius=blast,
            )
        except ValidationError as error:
            raise PolicyInputError(f"bad params for {kind}: {_reasons(error)}") from None
        return ExplainedAction(action, params_unknown=False)
    # Everything but the params is validated above; they stay unknown (no replica count).
    unknown = ProposedAction.model_construct(
        id="explain",
        kind=kind,
        target=target,
        params=NoParams(),
        proposer=AGENT,
        confidence=confidence,
        reason=reason,
        blast_radius=blast,
        incident_id=None,
    )
    return ExplainedAction(unknown, params_unknown=True)


def _takes_no_required_params(kind: ActionKind) -> bool:
    try:
        PARAMS_MODEL[kind].model_validate({})
    except ValidationError:
        return False
    return True


def _reasons(error: ValidationError) -> str:
    return "; ".join(
        ".".join(str(part) for part in e["loc"] if part != "params")
        + (": " if e["loc"] else "")
        + e["msg"].removeprefix("Value error, ")
        for e in error.errors()
    )
