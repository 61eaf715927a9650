"""The closed vocabulary of change: what opsbot may propose, against what, with which parameters."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from policies.resource_params import SetResourcesParams

MAX_SCALE_REPLICAS = 200
"""Upper bound for `ScaleParams.replicas`; policies can bound it further per rule."""

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
HOOK_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
AGENT = "agent"


class ActionKind(StrEnum):
    """Every change opsbot can make. Deleting namespaces (and the like) is deliberately absent."""

    RESTART_DEPLOYMENT = "restart_deployment"
    DELETE_POD = "delete_pod"
    SCALE_DEPLOYMENT = "scale_deployment"
    ROLLBACK_DEPLOYMENT = "rollback_deployment"
    PAUSE_ROLLOUT = "pause_rollout"
    RESUME_ROLLOUT = "resume_rollout"
    CORDON_NODE = "cordon_node"
    UNCORDON_NODE = "uncordon_node"
    HTTP_HOOK = "http_hook"
    EXPAND_VOLUME = "expand_volume"
    SET_RESOURCES = "set_resources"  # one container's requests/limits; restarts its pods
    DELETE_JOB = "delete_job"  # a finished (failed) job and its pods
    DELETE_PVC = "delete_pvc"  # an unattached claim: its data may be lost for good


class ResourceKind(StrEnum):
    DEPLOYMENT = "deployment"
    POD = "pod"
    NODE = "node"
    PERSISTENT_VOLUME_CLAIM = "persistentvolumeclaim"
    SERVICE = "service"
    JOB = "job"

    @property
    def namespaced(self) -> bool:
        return self is not ResourceKind.NODE


_INVERSES: dict[ActionKind, ActionKind] = {
    ActionKind.CORDON_NODE: ActionKind.UNCORDON_NODE,
    ActionKind.UNCORDON_NODE: ActionKind.CORDON_NODE,
    ActionKind.PAUSE_ROLLOUT: ActionKind.RESUME_ROLLOUT,
    ActionKind.RESUME_ROLLOUT: ActionKind.PAUSE_ROLLOUT,
    # Scaling back to the previous replica count is itself a scale.
    ActionKind.SCALE_DEPLOYMENT: ActionKind.SCALE_DEPLOYMENT,
    # A second rollback to the previous revision undoes the first (`kubectl rollout undo`).
    ActionKind.ROLLBACK_DEPLOYMENT: ActionKind.ROLLBACK_DEPLOYMENT,
    # Setting the previous requests and limits back is itself a set_resources.
    ActionKind.SET_RESOURCES: ActionKind.SET_RESOURCES,
}


def inverse_of(kind: ActionKind) -> ActionKind | None:
    """The kind that undoes `kind`, or None (a restart, a deleted pod or a grown volume stay)."""
    return _INVERSES.get(kind)


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NoParams(_Params):
    """For kinds whose target says everything (restart, pause, resume, cordon, uncordon)."""


class DeletePodParams(_Params):
    grace_period_seconds: int | None = Field(default=None, ge=0, le=3600)


class ScaleParams(_Params):
    replicas: int = Field(ge=0, le=MAX_SCALE_REPLICAS)
    previous_replicas: int | None = Field(
        default=None, ge=0, le=MAX_SCALE_REPLICAS, description="Needed to undo the scale."
    )


class RollbackParams(_Params):
    to_revision: int | None = Field(default=None, ge=1, description="None: the previous one.")


class HttpHookParams(_Params):
    hook: Annotated[str, StringConstraints(pattern=HOOK_NAME.pattern)] = Field(
        description="Name of a hook declared in the bot's configuration."
    )


class ExpandVolumeParams(_Params):
    new_size: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*(Mi|Gi|Ti)$")]


ActionParams = (
    NoParams
    | DeletePodParams
    | ScaleParams
    | RollbackParams
    | HttpHookParams
    | ExpandVolumeParams
    | SetResourcesParams
)

PARAMS_MODEL: dict[ActionKind, type[BaseModel]] = {
    ActionKind.RESTART_DEPLOYMENT: NoParams,
    ActionKind.DELETE_POD: DeletePodParams,
    ActionKind.SCALE_DEPLOYMENT: ScaleParams,
    ActionKind.ROLLBACK_DEPLOYMENT: RollbackParams,
    ActionKind.PAUSE_ROLLOUT: NoParams,
    ActionKind.RESUME_ROLLOUT: NoParams,
    ActionKind.CORDON_NODE: NoParams,
    ActionKind.UNCORDON_NODE: NoParams,
    ActionKind.HTTP_HOOK: HttpHookParams,
    ActionKind.EXPAND_VOLUME: ExpandVolumeParams,
    ActionKind.SET_RESOURCES: SetResourcesParams,
    ActionKind.DELETE_JOB: NoParams,
    ActionKind.DELETE_PVC: NoParams,
}

TARGET_KINDS: dict[ActionKind, frozenset[ResourceKind]] = {
    ActionKind.RESTART_DEPLOYMENT: frozenset({ResourceKind.DEPLOYMENT}),
    ActionKind.DELETE_POD: frozenset({ResourceKind.POD}),
    ActionKind.SCALE_DEPLOYMENT: frozenset({ResourceKind.DEPLOYMENT}),
    ActionKind.ROLLBACK_DEPLOYMENT: frozenset({ResourceKind.DEPLOYMENT}),
    ActionKind.PAUSE_ROLLOUT: frozenset({ResourceKind.DEPLOYMENT}),
    ActionKind.RESUME_ROLLOUT: frozenset({ResourceKind.DEPLOYMENT}),
    ActionKind.CORDON_NODE: frozenset({ResourceKind.NODE}),
    ActionKind.UNCORDON_NODE: frozenset({ResourceKind.NODE}),
    ActionKind.HTTP_HOOK: frozenset({ResourceKind.DEPLOYMENT, ResourceKind.SERVICE}),
    ActionKind.EXPAND_VOLUME: frozenset({ResourceKind.PERSISTENT_VOLUME_CLAIM}),
    ActionKind.SET_RESOURCES: frozenset({ResourceKind.DEPLOYMENT}),
    ActionKind.DELETE_JOB: frozenset({ResourceKind.JOB}),
    ActionKind.DELETE_PVC: frozenset({ResourceKind.PERSISTENT_VOLUME_CLAIM}),
}


class ResourceRef(BaseModel):
    """A Kubernetes object; `namespace` is None exactly for cluster-scoped kinds (nodes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ResourceKind
    namespace: str | None = None
    name: str
    labels: dict[str, str] | None = Field(default=None, description="None: not known.")

    @model_validator(mode="after")
    def _valid_names(self) -> Self:
        if self.kind.namespaced and self.namespace is None:
            raise ValueError(f"a {self.kind} needs a namespace")
        if not self.kind.namespaced and self.namespace is not None:
            raise ValueError(f"a {self.kind} is cluster-scoped and has no namespace")
        if self.namespace is not None and not DNS_LABEL.match(self.namespace):
            raise ValueError(f"namespace {self.namespace!r} is not a valid DNS-1123 label")
        if not DNS_SUBDOMAIN.match(self.name):
            raise ValueError(f"name {self.name!r} is not a valid DNS-1123 subdomain")
        return self

    def __str__(self) -> str:
        if self.namespace is None:
            return f"{self.kind}/{self.name}"
        return f"{self.kind}/{self.namespace}/{self.name}"


class BlastRadius(BaseModel):
    """What the action touches, as estimated by the proposer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pods_affected: int = Field(ge=0)
    replicas_affected: int = Field(default=0, ge=0)
    workload_share: float = Field(ge=0.0, le=1.0, description="Share of the workload, 0..1.")
    namespaces_touched: int = Field(default=1, ge=0)
    nodes_touched: int = Field(default=0, ge=0)


class ProposedAction(BaseModel):
    """One typed change proposed by a user or the agent; params must fit the kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=128)
    kind: ActionKind
    target: ResourceRef
    params: ActionParams = Field(default_factory=NoParams)
    reason: str = ""
    proposer: str = Field(description='A Slack user id or "agent".')
    confidence: float = Field(ge=0.0, le=1.0, description="Confidence of the finding.")
    blast_radius: BlastRadius
    incident_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _params_for_kind(cls, data: Any) -> Any:
        """Validate raw params with the kind's own model (the union alone is ambiguous)."""
        if not isinstance(data, dict):
            return data
        kind = data.get("kind")
        if kind not in tuple(ActionKind):
            return data
        params = data.get("params")
        if params is None or isinstance(params, dict):
            return {**data, "params": PARAMS_MODEL[ActionKind(kind)].model_validate(params or {})}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        expected = PARAMS_MODEL[self.kind]
        if type(self.params) is not expected:
            raise ValueError(
                f"{self.kind} takes {expected.__name__}, not {type(self.params).__name__}"
            )
        if self.target.kind not in TARGET_KINDS[self.kind]:
            allowed = ", ".join(sorted(TARGET_KINDS[self.kind]))
            raise ValueError(f"{self.kind} targets a {allowed}, not a {self.target.kind}")
        if self.proposer != AGENT and not USER_ID.match(self.proposer):
            raise ValueError(f'proposer must be a Slack user id or "agent", not {self.proposer!r}')
        return self

    @property
    def requested_replicas(self) -> int | None:
        return self.params.replicas if isinstance(self.params, ScaleParams) else None

    @property
    def hook(self) -> str | None:
        return self.params.hook if isinstance(self.params, HttpHookParams) else None


def inverse_action(action: ProposedAction, *, action_id: str) -> ProposedAction | None:
    """The action that undoes `action`, or None when there is none (or it cannot be built)."""
    kind = inverse_of(action.kind)
    if kind is None:
        return None
    params: ActionParams = NoParams()
    if isinstance(action.params, ScaleParams):
        if action.params.previous_replicas is None:
            return None
        params = ScaleParams(
            replicas=action.params.previous_replicas, previous_replicas=action.params.replicas
        )
    elif isinstance(action.params, RollbackParams):
        params = RollbackParams()
    elif isinstance(action.params, SetResourcesParams):
        params = action.params.undone()
    return action.model_copy(
        update={
            "id": action_id,
            "kind": kind,
            "params": params,
            "reason": f"undo {action.id}: {action.reason}".rstrip(": "),
        }
    )
