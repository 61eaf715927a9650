"""The cluster: store, clock, faults, RBAC and the controllers that make it behave.

Everything runs under one re-entrant lock. API writes call `reconcile()` so controllers react
at once; time-driven behaviour (pulls, crashes, back-offs, probes, rollouts) moves only with
`advance()`, which the auto driver calls in the background or a test calls explicitly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sandbox.kube.clock import SandboxClock, format_time
from sandbox.kube.defaults import default_object
from sandbox.kube.deployment_controller import DeploymentController
from sandbox.kube.events import EventRecorder
from sandbox.kube.faults import Fault, FaultBook
from sandbox.kube.garbage_collector import GarbageCollector
from sandbox.kube.identity import IdGenerator
from sandbox.kube.kubelet import Kubelet
from sandbox.kube.node_lifecycle import NodeLifecycle
from sandbox.kube.objects import Timings, clone
from sandbox.kube.podlogs import LogProfile, default_profile
from sandbox.kube.rbac import RbacPolicy
from sandbox.kube.replicaset_controller import ReplicaSetController
from sandbox.kube.resources import RESOURCE_TYPES
from sandbox.kube.scheduler import Scheduler
from sandbox.kube.store import ObjectStore
from sandbox.kube.volume_binding import VolumeBinder
from sandbox.kube.volume_expansion import VolumeExpander

JsonDict = dict[str, Any]
GENERATION_TRACKED = frozenset({"deployments", "replicasets", "horizontalpodautoscalers"})


class Cluster:
    def __init__(
        self,
        *,
        random_seed: int = 0,
        start: datetime | None = None,
        timings: Timings | None = None,
        server_version: str = "v1.33.2",
    ) -> None:
        self.lock = threading.RLock()
        self.clock = SandboxClock(start)
        self.ids = IdGenerator(random_seed)
        self.store = ObjectStore()
        self.events = EventRecorder(self.store, self.clock, self.ids)
        self.faults = FaultBook()
        self.rbac = RbacPolicy()
        self.timings = timings or Timings()
        self.server_version = server_version
        self.log_profiles: dict[tuple[str, str, str], LogProfile] = {}
        self.kubelet = Kubelet(self)
        self.scheduler = Scheduler(self)
        self._controllers: list[Callable[[], None]] = [
            NodeLifecycle(self).reconcile,
            GarbageCollector(self).reconcile,
            DeploymentController(self).reconcile,
            ReplicaSetController(self).reconcile,
            VolumeBinder(self).reconcile,
            VolumeExpander(self).reconcile,
            self.scheduler.reconcile,
            self.kubelet.reconcile,
        ]
        self._on_close: list[Callable[[], None]] = []

    # -- time and reconciliation -------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def reconcile(self, max_passes: int = 25) -> None:
        """Run every controller until a pass changes nothing."""
        with self.lock:
            for _ in range(max_passes):
                before = self.store.resource_version
                for controller in self._controllers:
                    controller()
                if self.store.resource_version == before:
                    return

    def advance(self, seconds: float, step: float = 1.0) -> None:
        """Move sandbox time forward in steps, letting controllers act at each step."""
        with self.lock:
            remaining = seconds
            self.reconcile()
            while remaining > 1e-9:
                delta = min(step, remaining)
                self.clock.advance(delta)
                remaining -= delta
                self.reconcile()

    def settle(self, max_seconds: float = 900.0, step: float = 1.0) -> bool:
        """Advance until every deployment has rolled out (or max_seconds pass)."""
        waited = 0.0
        while waited <= max_seconds:
            with self.lock:
                self.reconcile()
                if self.quiet():
                    return True
                self.advance(step, step)
            waited += step
        return False

    def quiet(self) -> bool:
        """Every rollout complete and no pod on a live node still terminating."""
        terminating = any(
            p["metadata"].get("deletionTimestamp")
            and self.kubelet.node_alive(p["spec"].get("nodeName") or "")
            for p in self.store.items("pods")
        )
        return not terminating and all(
            self.rollout_complete(d) for d in self.store.items("deployments")
        )

    def rollout_complete(self, deployment: JsonDict) -> bool:
        spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
        replicas = spec.get("replicas", 1)
        return bool(
            status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
            and status.get("updatedReplicas", 0) == replicas
            and status.get("replicas", 0) == replicas
            and status.get("availableReplicas", 0) == replicas
        )

    # -- object helpers used by controllers, the API and seeding -----------------------
    def create_object(self, plural: str, obj: JsonDict, *, dry_run: bool = False) -> JsonDict:
        """Fill system metadata and defaults, then store (unless dry_run)."""
        prepared = clone(obj)
        resource = next(r for r in RESOURCE_TYPES if r.plural == plural)
        prepared["kind"], prepared["apiVersion"] = resource.kind, resource.api_version
        meta = prepared.setdefault("metadata", {})
        meta.pop("resourceVersion", None)
        meta["uid"] = self.ids.uid()
        meta["creationTimestamp"] = format_time(self.now())
        if plural in GENERATION_TRACKED:
            meta["generation"] = 1
        default_object(plural, prepared)
        if dry_run:
            return prepared
        return self.store.put(plural, prepared)

    def write(self, plural: str, obj: JsonDict) -> JsonDict:
        return self.store.put(plural, obj)

    def delete_pod(self, pod: JsonDict, grace_seconds: int | None = None) -> JsonDict | None:
        """Graceful pod deletion: bound pods get a deletionTimestamp, the kubelet finishes it."""
        meta = pod["metadata"]
        grace = (
            grace_seconds
            if grace_seconds is not None
            else pod["spec"].get("terminationGracePeriodSeconds", 30)
        )
        if not pod["spec"].get("nodeName") or grace == 0:
            return self.store.remove("pods", meta["namespace"], meta["name"])
        if meta.get("deletionTimestamp") and (meta.get("deletionGracePeriodSeconds") or 0) <= grace:
            return pod
        updated = clone(pod)
        updated["metadata"]["deletionTimestamp"] = format_time(
            self.now() + timedelta(seconds=grace)
        )
        updated["metadata"]["deletionGracePeriodSeconds"] = grace
        return self.store.put("pods", updated)

    def owning_deployment(self, pod: JsonDict) -> str | None:
        """The name of the Deployment that owns a pod through its ReplicaSet, if any."""
        for ref in pod["metadata"].get("ownerReferences") or []:
            if ref.get("kind") != "ReplicaSet":
                continue
            rs = self.store.get("replicasets", pod["metadata"]["namespace"], ref["name"])
            for owner in (rs or {}).get("metadata", {}).get("ownerReferences") or []:
                if owner.get("kind") == "Deployment":
                    return str(owner["name"])
        return None

    def log_profile(self, pod: JsonDict, container: JsonDict) -> LogProfile:
        namespace = pod["metadata"]["namespace"]
        owner = self.owning_deployment(pod) or pod["metadata"]["name"]
        found = self.log_profiles.get((namespace, owner, container["name"]))
        return found or default_profile(str(container.get("image", "")))

    # -- faults and access control ------------------------------------------------------
    def add_fault(self, fault: Fault) -> Fault:
        with self.lock:
            added = self.faults.add(fault)
            self.reconcile()
            return added

    def remove_fault(self, fault_id: str) -> bool:
        with self.lock:
            removed = self.faults.remove(fault_id)
            self.reconcile()
            return removed

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.reconcile()

    def set_rbac(self, policy: RbacPolicy) -> None:
        with self.lock:
            self.rbac = policy

    # -- shutdown ------------------------------------------------------------------------
    def on_close(self, callback: Callable[[], None]) -> None:
        self._on_close.append(callback)

    def close(self) -> None:
        for callback in list(self._on_close):
            callback()
