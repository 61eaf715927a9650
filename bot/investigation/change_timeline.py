"""The cross-service change timeline: every rollout of the services in the blast radius,
ordered by how close it came to the incident's start, and the writes of the ConfigMaps and
Secrets the failing workload reads (a configuration change breaks pods as a release does,
and a rollback does not undo it). Pure; fed with the deployments (and their rollout
history) and the workload's configuration the Kubernetes tools returned."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tools.k8s.deployments import DeploymentData, RevisionInfo
from tools.k8s.workload_config import WorkloadConfigData

WINDOW = timedelta(hours=2)


@dataclass(frozen=True)
class ChangeEvent:
    """One rollout: `service` moved to `revision` at `at`; `what` says what changed."""

    namespace: str
    service: str
    revision: int
    at: datetime
    what: str
    images: tuple[str, ...]
    lowered_memory: tuple[str, str] | None = None  # (old, new) memory limit
    lowered_cpu: tuple[str, str] | None = None  # (old, new) CPU limit

    def describe(self) -> str:
        return f"{self.service} revision {self.revision} at {self.at:%H:%M}Z ({self.what})"


def _current(deployment: DeploymentData) -> RevisionInfo | None:
    if not deployment.revisions:
        return None
    return next((r for r in deployment.revisions if r.current), deployment.revisions[0])


_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(m|[kMGTP]i?)?\s*$")
_FACTOR = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
_FACTOR |= {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50}


def quantity(text: str) -> float | None:
    """A Kubernetes quantity (`200m`, `512Mi`, `1`) as a number, None when it is not one."""
    found = _QUANTITY.match(text)
    return float(found.group(1)) * _FACTOR[found.group(2) or ""] if found else None


def _lowered(revision: RevisionInfo, suffix: str) -> tuple[str, str] | None:
    for change in revision.changes:
        if not (change.field.endswith(suffix) and change.old and change.new):
            continue
        old, new = quantity(change.old), quantity(change.new)
        if old is not None and new is not None and new < old:
            return change.old, change.new
    return None


def change_events(deployments: Sequence[DeploymentData]) -> list[ChangeEvent]:
    """The current revision of each deployment that replaced an earlier one, oldest first."""
    events = []
    for deployment in deployments:
        current = _current(deployment)
        older = [r for r in deployment.revisions if current and r.revision < current.revision]
        if current is None or current.created is None or not older:
            continue
        events.append(
            ChangeEvent(
                namespace=deployment.namespace,
                service=deployment.name,
                revision=current.revision,
                at=current.created,
                what="; ".join(c.describe() for c in current.changes) or "a new pod template",
                images=tuple(current.images),
                lowered_memory=_lowered(current, ".resources.limits.memory"),
                lowered_cpu=_lowered(current, ".resources.limits.cpu"),
            )
        )
    return sorted(events, key=lambda e: e.at)


def changes_near(
    events: Sequence[ChangeEvent], moment: datetime, window: timedelta = WINDOW
) -> list[ChangeEvent]:
    """The events within `window` before `moment` (or shortly after), nearest first."""
    near = [e for e in events if -timedelta(minutes=10) <= moment - e.at <= window]
    return sorted(near, key=lambda e: abs((moment - e.at).total_seconds()))


@dataclass(frozen=True)
class ConfigChange:
    """A write of a ConfigMap or Secret that `workload`'s pods read: `object` (`ConfigMap/x`)
    was last written at `at` (`how`: which manager, which operation); `used_by` says where
    the pod template reads it (`container web envFrom`, `volume config`...); `keys` are the
    keys holding a value the workload's error lines name."""

    workload: str
    object: str
    at: datetime
    how: str
    used_by: tuple[str, ...]
    keys: tuple[str, ...] = ()
    named: tuple[str, ...] = ()

    def describe(self) -> str:
        where = ", ".join(self.used_by) or "its pod template"
        return f"{self.object} (read by {self.workload}: {where}) written at {self.at:%H:%M}Z"


def config_changes(workload: str, data: WorkloadConfigData) -> list[ConfigChange]:
    """The last write of every ConfigMap and Secret `workload` reads, newest first, with the
    keys whose values hold what its errors named (`data.matches`)."""
    found = []
    for write in data.written:
        kind, _, name = write.object.partition("/")
        used_by = tuple(
            dict.fromkeys(r.used_by for r in data.references if r.kind == kind and r.name == name)
        )
        matches = [m for m in data.matches if kind == "ConfigMap" and m.config_map == name]
        found.append(
            ConfigChange(
                workload=workload,
                object=write.object,
                at=write.at,
                how=write.how,
                used_by=used_by,
                keys=tuple(dict.fromkeys(m.key for m in matches)),
                named=tuple(dict.fromkeys(m.text for m in matches)),
            )
        )
    return sorted(found, key=lambda c: c.at, reverse=True)
