"""Fault injection: what should go wrong, keyed so that real remediation clears it.

A bad image fault follows the image (rolling back to another tag heals the pods); an OOM
fault follows the deployment/container and stops once the memory limit reaches its
threshold; a node fault follows the node name. Removing a fault heals its targets too.
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sandbox.kube.quantity import parse_quantity

FaultKind = Literal["oom", "crash", "bad_image", "readiness", "node_not_ready"]
FAULT_KINDS: tuple[str, ...] = ("oom", "crash", "bad_image", "readiness", "node_not_ready")
CONTAINER_FAULTS = ("oom", "crash", "readiness")


@dataclass
class Fault:
    """One injected failure. Unset selector fields match anything.

    kind:             oom | crash | bad_image | readiness | node_not_ready
    namespace, deployment, container: which containers (deployment = the owning Deployment)
    image:            glob on the container image (`shop/checkout:2.*`); required for bad_image
    node:             node name (node_not_ready)
    memory_threshold: oom only: a memory limit at or above this quantity cures the container
    after_seconds:    oom/crash: how long a container runs before it dies
    exit_code:        crash only (default 2, as a Go panic exits)
    node_status:      node_not_ready: "Unknown" (kubelet stopped posting) or "False"
                      (KubeletNotReady)
    message:          overrides the pull error / probe failure / panic message
    log_lines:        lines the container writes just before it dies
    """

    kind: FaultKind
    namespace: str | None = None
    deployment: str | None = None
    container: str | None = None
    image: str | None = None
    node: str | None = None
    memory_threshold: str | None = None
    after_seconds: float = 20.0
    exit_code: int | None = None
    node_status: Literal["Unknown", "False"] = "Unknown"
    message: str | None = None
    log_lines: list[str] | None = None
    id: str = field(default="")

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}"
            )
        if self.kind == "bad_image" and not self.image:
            raise ValueError("a bad_image fault needs an image")
        if self.kind == "node_not_ready" and not self.node:
            raise ValueError("a node_not_ready fault needs a node")
        if self.node_status not in ("Unknown", "False"):
            raise ValueError("node_status must be Unknown or False")
        if self.memory_threshold is not None:
            parse_quantity(self.memory_threshold)

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        return cls(**data)


@dataclass(frozen=True)
class ContainerTarget:
    """What a fault can be matched against for one container of one pod."""

    namespace: str
    deployment: str | None
    container: str
    image: str
    memory_limit: str | None


def _matches(pattern: str | None, value: str | None) -> bool:
    return pattern is None or (value is not None and pattern == value)


def _cured(fault: Fault, target: ContainerTarget) -> bool:
    """A memory limit at or above the OOM fault's threshold cures the container."""
    if not fault.memory_threshold or not target.memory_limit:
        return False
    return parse_quantity(target.memory_limit) >= parse_quantity(fault.memory_threshold)


class FaultBook:
    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> Fault:
        if not fault.id:
            fault.id = f"fault-{next(self._ids)}"
        self._faults[fault.id] = fault
        return fault

    def remove(self, fault_id: str) -> bool:
        return self._faults.pop(fault_id, None) is not None

    def clear(self) -> None:
        self._faults.clear()

    def all(self) -> list[Fault]:
        return list(self._faults.values())

    def for_container(self, kind: str, target: ContainerTarget) -> Fault | None:
        for fault in self._faults.values():
            if fault.kind != kind:
                continue
            if not (
                _matches(fault.namespace, target.namespace)
                and _matches(fault.deployment, target.deployment)
                and _matches(fault.container, target.container)
            ):
                continue
            if fault.image is not None and not fnmatch.fnmatchcase(target.image, fault.image):
                continue
            if kind == "oom" and _cured(fault, target):
                continue
            return fault
        return None

    def for_node(self, node: str) -> Fault | None:
        return next(
            (f for f in self._faults.values() if f.kind == "node_not_ready" and f.node == node),
            None,
        )
