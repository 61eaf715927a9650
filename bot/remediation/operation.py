"""What every catalog operation is: the `Operation` contract (its RBAC needs, a plan read
from the live cluster, a call made once as a server-side dry run and once for real), the
`Plan` it produces, and the error type and helpers the operation modules share."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import urllib3
from kubernetes.client.exceptions import ApiException

from bot.errors import OpsbotError
from policies import BlastRadius, ProposedAction

T = TypeVar("T")


class ActionError(OpsbotError):
    """The cluster or the hook refused or failed the call; `message` says what and why."""


@dataclass(frozen=True)
class Permission:
    """One RBAC grant the catalog needs: verbs on a resource of an API group."""

    group: str
    resource: str
    verbs: tuple[str, ...]


@dataclass
class Plan:
    """What will run: the action (params completed, blast radius measured), its inverse,
    the labels the policy matches on, facts about the state before, and the prepared body
    (the dry run and the real call send the same request)."""

    action: ProposedAction
    blast: BlastRadius
    inverse: ProposedAction | None
    target_labels: dict[str, str] | None = None
    namespace_labels: dict[str, str] | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    request: Any = None


class Operation(Protocol):
    @property
    def permissions(self) -> tuple[Permission, ...]: ...

    def plan(self, action: ProposedAction) -> Plan: ...

    def call(self, plan: Plan, *, dry_run: bool) -> str: ...


def kube(what: str, call: Callable[[], T]) -> T:
    """One API call; its failures become an ActionError naming what was attempted."""
    try:
        return call()
    except ApiException as exc:
        raise ActionError(f"{what}: HTTP {exc.status} {_status_message(exc)}") from None
    except urllib3.exceptions.HTTPError as exc:
        raise ActionError(f"{what}: the Kubernetes API is unreachable ({exc})") from None


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "")
    except ValueError:
        return str(exc.reason or "error")
    return str(body.get("message") or exc.reason) if isinstance(body, dict) else str(exc.reason)


def inverse_id(action: ProposedAction) -> str:
    return f"{action.id}-undo"[:128]


def namespace_labels(core: Any, namespace: str | None) -> dict[str, str] | None:
    """The namespace's labels, or None when unknown (a rule matching on them then fails)."""
    if namespace is None:
        return None
    try:
        return dict(core.read_namespace(namespace).metadata.labels or {})
    except (ApiException, urllib3.exceptions.HTTPError):
        return None
