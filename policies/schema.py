"""The policy file schema: rules (match → outcome), change freezes, modes and defaults."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from policies.actions import HOOK_NAME, MAX_SCALE_REPLICAS, USER_ID, USERGROUP_ID, ActionKind
from policies.decision import Mode, Verdict
from policies.windows import DateRange, WeeklyWindow, any_window_open, zone

MAX_APPROVALS = 2
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_GLOB_BODY = re.compile(r"^[a-z0-9*?\[\]!-]+$")
_RULE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
EXISTS = "*"


def parse_duration(value: object) -> timedelta:
    """Read "15m", "1h30m", "2d" or "90s" (between 1 minute and 7 days)."""
    if isinstance(value, timedelta):
        return value
    found = _DURATION.match(value.strip()) if isinstance(value, str) else None
    if found is None or not any(found.groups()):
        raise ValueError(f"bad duration {value!r}: write it like 15m, 1h or 1h30m")
    days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not timedelta(minutes=1) <= duration <= timedelta(days=7):
        raise ValueError(f"duration {value!r} is out of range: use 1m to 7d")
    return duration


def format_duration(duration: timedelta) -> str:
    """timedelta → "1h30m" (the inverse of `parse_duration`)."""
    seconds = int(duration.total_seconds())
    parts = [(seconds // 86400, "d"), (seconds // 3600 % 24, "h"), (seconds // 60 % 60, "m")]
    text = "".join(f"{value}{unit}" for value, unit in [*parts, (seconds % 60, "s")] if value)
    return text or "0s"


def check_namespace_glob(pattern: str) -> str:
    """fnmatch patterns over namespace names; a leading "!" excludes."""
    body = pattern.removeprefix("!")
    if not body:
        raise ValueError(f"empty namespace pattern {pattern!r}")
    if body.startswith("!"):
        raise ValueError(f"bad namespace pattern {pattern!r}: a single leading '!' negates")
    if not _GLOB_BODY.match(body):
        raise ValueError(
            f"bad namespace pattern {pattern!r}: namespaces hold only a-z, 0-9 and '-' "
            "(wildcards: * ? [...])"
        )
    depth = 0
    for char in body:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth not in (0, 1):
            raise ValueError(f"bad namespace pattern {pattern!r}: unbalanced brackets")
    if depth:
        raise ValueError(f"bad namespace pattern {pattern!r}: unclosed '['")
    return pattern


def check_approver(value: str) -> str:
    if not (USER_ID.match(value) or USERGROUP_ID.match(value)):
        raise ValueError(f"approver {value!r} is not a Slack user id (U…/W…) or usergroup id (S…)")
    return value


def _label_value_as_text(value: Any) -> Any:
    """YAML reads `critical: true` as a bool and `tier: 1` as an int; labels are text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return [_label_value_as_text(item) for item in value]
    return value


def _check_selector(selector: dict[str, str | tuple[str, ...]]) -> dict[str, str | tuple[str, ...]]:
    for key, requirement in selector.items():
        if not _LABEL_KEY.match(key):
            raise ValueError(f"bad label key {key!r}")
        values = requirement if isinstance(requirement, tuple) else (requirement,)
        for value in values:
            plain = value.removeprefix("!") if isinstance(requirement, str) else value
            if plain != EXISTS and not _LABEL_VALUE.match(plain):
                raise ValueError(f"bad label value {value!r} for {key!r}")
    return selector


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
NamespaceGlob = Annotated[str, AfterValidator(check_namespace_glob)]
ApproverId = Annotated[str, AfterValidator(check_approver)]
HookName = Annotated[str, Field(pattern=HOOK_NAME.pattern)]
Name = Annotated[str, Field(pattern=_RULE_NAME.pattern)]
LabelSelector = Annotated[
    dict[str, Annotated[str | tuple[str, ...], BeforeValidator(_label_value_as_text)]],
    AfterValidator(_check_selector),
]
"""label → "value" (equal), "!value" (not equal or absent), "*" (present), [a, b] (one of)."""

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Match(BaseModel):
    """All given criteria must hold; an omitted criterion matches anything."""

    model_config = _FROZEN

    kinds: tuple[ActionKind, ...] | None = None
    namespaces: tuple[NamespaceGlob, ...] | None = None
    target_labels: LabelSelector | None = None
    namespace_labels: LabelSelector | None = None
    max_pods: int | None = Field(default=None, ge=0)
    max_share: float | None = Field(default=None, ge=0.0, le=1.0)
    max_namespaces: int | None = Field(default=None, ge=0)
    max_nodes: int | None = Field(default=None, ge=0)
    min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    min_replicas: int | None = Field(default=None, ge=0, le=MAX_SCALE_REPLICAS)
    max_replicas: int | None = Field(default=None, ge=0, le=MAX_SCALE_REPLICAS)
    hooks: tuple[HookName, ...] | None = None

    @field_validator("kinds", "namespaces", "hooks")
    @classmethod
    def _not_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and not value:
            raise ValueError("an empty list matches nothing: omit the key to match anything")
        return value

    @model_validator(mode="after")
    def _replica_bounds_ordered(self) -> Self:
        low, high = self.min_replicas, self.max_replicas
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_replicas {low} is above max_replicas {high}")
        return self


class Outcome(BaseModel):
    """Approval settings shared by rules and freezes; None falls back to the policy defaults."""

    model_config = _FROZEN

    description: str = ""
    approvers: tuple[ApproverId, ...] | None = None
    approvals_required: int | None = Field(default=None, ge=1, le=MAX_APPROVALS)
    approval_expiry: Duration | None = None


class Rule(Outcome):
    name: Name
    enabled: bool = True
    match: Match = Match()
    verdict: Verdict

    @model_validator(mode="before")
    @classmethod
    def _switched_off_needs_no_verdict(cls, data: Any) -> Any:
        """`{name: restart-prod, enabled: false}` is enough to switch a shipped rule off."""
        if isinstance(data, dict) and data.get("enabled") is False and "verdict" not in data:
            return {**data, "verdict": Verdict.FORBIDDEN}
        return data


class Freeze(Outcome):
    """A change freeze: while any window is open, matched actions are at least `verdict`."""

    name: Name
    timezone: str = "UTC"
    weekly: tuple[WeeklyWindow, ...] = ()
    dates: tuple[DateRange, ...] = ()
    match: Match = Match()
    verdict: Verdict = Verdict.RISKY

    @field_validator("verdict")
    @classmethod
    def _restrictive(cls, value: Verdict) -> Verdict:
        if value is Verdict.SAFE:
            raise ValueError("a freeze raises actions to RISKY or FORBIDDEN, never SAFE")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)
        return value

    def is_open(self, now: datetime) -> bool:
        return any_window_open(now, self.timezone, self.weekly, self.dates)

    @model_validator(mode="after")
    def _has_window(self) -> Self:
        if not self.weekly and not self.dates:
            raise ValueError(f"freeze {self.name!r} needs a weekly or dates window")
        return self


class ModeOverride(BaseModel):
    model_config = _FROZEN

    namespaces: tuple[NamespaceGlob, ...] = Field(min_length=1)
    mode: Mode


class Defaults(BaseModel):
    model_config = _FROZEN

    approvers: tuple[ApproverId, ...] = ()
    approvals_required: int = Field(default=1, ge=1, le=MAX_APPROVALS)
    approval_expiry: Duration = timedelta(minutes=15)


class DefaultsPatch(BaseModel):
    """`defaults:` as written in one file; unset keys keep the earlier files' values."""

    model_config = _FROZEN

    approvers: tuple[ApproverId, ...] | None = None
    approvals_required: int | None = Field(default=None, ge=1, le=MAX_APPROVALS)
    approval_expiry: Duration | None = None


class PolicyFile(BaseModel):
    """One YAML policy document."""

    model_config = _FROZEN

    version: Literal[1] = 1
    mode: Mode | None = None
    mode_overrides: tuple[ModeOverride, ...] = ()
    confidence_floor: float | None = Field(default=None, ge=0.0, le=1.0)
    protected_namespaces: tuple[NamespaceGlob, ...] = ()
    defaults: DefaultsPatch = DefaultsPatch()
    freezes: tuple[Freeze, ...] = ()
    rules: tuple[Rule, ...] = ()


class SourceLocation(BaseModel):
    model_config = _FROZEN

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


class Policy(BaseModel):
    """The merged, validated policy that `evaluate` reads. Constructing one in code is fine."""

    model_config = _FROZEN

    mode: Mode = Mode.SUPERVISED
    mode_overrides: tuple[ModeOverride, ...] = ()
    confidence_floor: float = Field(default=0.8, ge=0.0, le=1.0)
    protected_namespaces: tuple[NamespaceGlob, ...] = (
        "kube-system",
        "kube-public",
        "kube-node-lease",
    )
    defaults: Defaults = Defaults()
    freezes: tuple[Freeze, ...] = ()
    rules: tuple[Rule, ...] = ()
    sources: dict[str, SourceLocation] = Field(
        default_factory=dict,
        description='Where each was defined: "rules/NAME", "freezes/NAME", "defaults.approvers".',
    )

    def source_of(self, key: str) -> SourceLocation | None:
        return self.sources.get(key)
