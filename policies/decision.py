"""What the engine answers: a verdict, the operating mode, and what the bot should do now."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from policies.actions import USER_ID, USERGROUP_ID


class _CaseInsensitiveEnum(StrEnum):
    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, str):
            for member in cls:
                if member.value.lower() == value.lower():
                    return member
        return None


class Verdict(_CaseInsensitiveEnum):
    SAFE = "SAFE"
    RISKY = "RISKY"
    FORBIDDEN = "FORBIDDEN"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    def at_least(self, floor: Verdict) -> Verdict:
        """The stricter of the two verdicts."""
        return self if self.severity >= floor.severity else floor


_SEVERITY = {Verdict.SAFE: 0, Verdict.RISKY: 1, Verdict.FORBIDDEN: 2}


class Mode(_CaseInsensitiveEnum):
    """How much opsbot may do on its own; modes are rolled out shadow → supervised → autonomous."""

    SHADOW = "shadow"
    SUPERVISED = "supervised"
    AUTONOMOUS = "autonomous"


class Disposition(StrEnum):
    """What the bot does with the action now."""

    EXECUTE = "execute"
    REQUEST_APPROVAL = "request_approval"
    LOG_ONLY = "log_only"
    REFUSE = "refuse"


class EvaluationContext(BaseModel):
    """Facts about the moment and the target that the action itself does not carry.

    Labels are None when unknown: a rule with a label selector then does not match.
    `declared_freeze` is an operator-declared freeze (its reason); it acts like a freeze
    window covering every namespace with a RISKY floor.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    now: AwareDatetime
    namespace_labels: dict[str, str] | None = None
    target_labels: dict[str, str] | None = None
    declared_freeze: str | None = None


class Decision(BaseModel):
    """The engine's answer for one action.

    `approvers` and `approvals_required` describe what approving this verdict takes
    (0 approvals: none needed); `disposition` says what to do right now given the mode.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    verdict: Verdict
    rule: str
    reason: str
    adjustments: tuple[str, ...] = ()
    mode: Mode
    disposition: Disposition
    approvers: tuple[str, ...] = ()
    approvals_required: int = Field(default=0, ge=0)
    approval_expiry: timedelta

    @property
    def execute_now(self) -> bool:
        return self.disposition is Disposition.EXECUTE

    @property
    def needs_approval(self) -> bool:
        return self.disposition is Disposition.REQUEST_APPROVAL

    @property
    def approver_user_ids(self) -> tuple[str, ...]:
        return tuple(a for a in self.approvers if USER_ID.match(a))

    @property
    def approver_usergroup_ids(self) -> tuple[str, ...]:
        return tuple(a for a in self.approvers if USERGROUP_ID.match(a))
