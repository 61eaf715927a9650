"""opsbot's policy engine: the vocabulary of change and a pure `evaluate` that classifies
each proposed action as SAFE, RISKY or FORBIDDEN. Imports only stdlib, pydantic and yaml."""

from policies.actions import (
    MAX_SCALE_REPLICAS,
    ActionKind,
    ActionParams,
    BlastRadius,
    DeletePodParams,
    ExpandVolumeParams,
    HttpHookParams,
    NoParams,
    ProposedAction,
    ResourceKind,
    ResourceRef,
    RollbackParams,
    ScaleParams,
    inverse_action,
    inverse_of,
)
from policies.checker import check_policy, check_policy_files
from policies.decision import Decision, Disposition, EvaluationContext, Mode, Verdict
from policies.errors import PolicyInputError, PolicyLoadError, PolicyProblem
from policies.evaluate import DEFAULT_DENY_RULE, PROTECTED_RULE, evaluate, freezes_in_effect
from policies.explain import explain
from policies.loader import DEFAULT_POLICY_PATH, load_policy
from policies.parsing import parse_action_kind, parse_target
from policies.resource_params import SetResourcesParams
from policies.schema import Freeze, Match, ModeOverride, Policy, Rule, parse_duration

__all__ = [
    "DEFAULT_DENY_RULE",
    "DEFAULT_POLICY_PATH",
    "MAX_SCALE_REPLICAS",
    "PROTECTED_RULE",
    "ActionKind",
    "ActionParams",
    "BlastRadius",
    "Decision",
    "DeletePodParams",
    "Disposition",
    "EvaluationContext",
    "ExpandVolumeParams",
    "Freeze",
    "HttpHookParams",
    "Match",
    "Mode",
    "ModeOverride",
    "NoParams",
    "Policy",
    "PolicyInputError",
    "PolicyLoadError",
    "PolicyProblem",
    "ProposedAction",
    "ResourceKind",
    "ResourceRef",
    "RollbackParams",
    "Rule",
    "ScaleParams",
    "SetResourcesParams",
    "Verdict",
    "check_policy",
    "check_policy_files",
    "evaluate",
    "explain",
    "freezes_in_effect",
    "inverse_action",
    "inverse_of",
    "load_policy",
    "parse_action_kind",
    "parse_duration",
    "parse_target",
]
