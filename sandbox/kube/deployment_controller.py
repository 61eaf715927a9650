"""Deployments: revisioned ReplicaSets, rolling updates, rollbacks by template, status."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sandbox.kube.deployment_status import (
    REVISION,
    available_replicas,
    deployment_status,
    revision_of,
    spec_replicas,
    surge_and_unavailable,
)
from sandbox.kube.events import DEPLOYMENT_CONTROLLER
from sandbox.kube.identity import POD_TEMPLATE_HASH, comparable_template, pod_template_hash
from sandbox.kube.objects import clone, is_controlled_by, is_terminating, owner_reference

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
# Deployment annotations the controller does not copy onto its ReplicaSets.
SKIPPED_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        DESIRED_REPLICAS,
        MAX_REPLICAS,
    }
)


class DeploymentController:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._template_keys: dict[tuple[str, str], str] = {}

    def _template_key(self, obj: JsonDict) -> str:
        """The comparable template of a stored object, memoized by uid and resourceVersion."""
        meta = obj["metadata"]
        key = (meta.get("uid", ""), meta.get("resourceVersion", ""))
        found = self._template_keys.get(key)
        if found is None:
            if len(self._template_keys) > 5000:
                self._template_keys.clear()
            found = json.dumps(
                comparable_template(obj["spec"].get("template") or {}), sort_keys=True
            )
            self._template_keys[key] = found
        return found

    def _find_new(self, deployment: JsonDict, owned: list[JsonDict]) -> JsonDict | None:
        wanted = self._template_key(deployment)
        return next((rs for rs in owned if self._template_key(rs) == wanted), None)

    def reconcile(self) -> None:
        store = self.cluster.store
        for deployment in list(store.items("deployments")):
            meta = deployment["metadata"]
            current = store.get("deployments", meta["namespace"], meta["name"])
            if current is not None and not is_terminating(current):
                self._sync(current)

    def _owned(self, deployment: JsonDict) -> list[JsonDict]:
        namespace = deployment["metadata"]["namespace"]
        owned = [
            rs
            for rs in self.cluster.store.items("replicasets", namespace)
            if is_controlled_by(rs, deployment)
        ]
        return sorted(
            owned,
            key=lambda rs: (rs["metadata"].get("creationTimestamp", ""), rs["metadata"]["name"]),
        )

    def _sync(self, deployment: JsonDict) -> None:
        owned = self._owned(deployment)
        new_rs = self._find_new(deployment, owned)
        old = [rs for rs in owned if rs is not new_rs]
        progress_reason: tuple[str, str] | None = None
        if not deployment["spec"].get("paused"):
            if new_rs is None:
                new_rs = self._create_replicaset(deployment, old)
                progress_reason = (
                    "NewReplicaSetCreated",
                    f'Created new replica set "{new_rs["metadata"]["name"]}"',
                )
            else:
                new_rs, bumped = self._adopt_revision(deployment, new_rs, old)
                if bumped:
                    progress_reason = (
                        "FoundNewReplicaSet",
                        f'Found new replica set "{new_rs["metadata"]["name"]}"',
                    )
            deployment = self._sync_revision_annotation(deployment, new_rs)
            if (deployment["spec"].get("strategy") or {}).get("type") == "Recreate":
                self._recreate(deployment, new_rs, old)
            else:
                self._rolling_update(deployment, new_rs, old)
            self._cleanup(deployment, old)
        self._update_status(deployment, progress_reason)

    def _create_replicaset(self, deployment: JsonDict, old: list[JsonDict]) -> JsonDict:
        template = clone(deployment["spec"].get("template") or {})
        template_hash = pod_template_hash(
            template, int((deployment.get("status") or {}).get("collisionCount", 0))
        )
        template.setdefault("metadata", {}).setdefault("labels", {})[POD_TEMPLATE_HASH] = (
            template_hash
        )
        selector = clone(deployment["spec"].get("selector") or {})
        selector.setdefault("matchLabels", {})[POD_TEMPLATE_HASH] = template_hash
        revision = max((revision_of(rs) for rs in old), default=0) + 1
        annotations = {
            k: v
            for k, v in (deployment["metadata"].get("annotations") or {}).items()
            if k not in SKIPPED_ANNOTATIONS
        }
        surge, _ = surge_and_unavailable(deployment)
        replicas = int(deployment["spec"].get("replicas", 1))
        annotations.update(
            {
                DESIRED_REPLICAS: str(replicas),
                MAX_REPLICAS: str(replicas + surge),
                REVISION: str(revision),
            }
        )
        labels = dict(template["metadata"]["labels"])
        spec: JsonDict = {"replicas": 0, "selector": selector, "template": template}
        if deployment["spec"].get("minReadySeconds"):
            spec["minReadySeconds"] = deployment["spec"]["minReadySeconds"]
        rs = {
            "metadata": {
                "name": f"{deployment['metadata']['name']}-{template_hash}",
                "namespace": deployment["metadata"]["namespace"],
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [owner_reference(deployment)],
            },
            "spec": spec,
        }
        return self.cluster.create_object("replicasets", rs)

    def _adopt_revision(
        self, deployment: JsonDict, rs: JsonDict, old: list[JsonDict]
    ) -> tuple[JsonDict, bool]:
        """A rollback reuses an old ReplicaSet: it becomes the newest revision."""
        max_old = max((revision_of(o) for o in old), default=0)
        current = revision_of(rs)
        if current > max_old:
            return rs, False
        updated = clone(rs)
        annotations = updated["metadata"].setdefault("annotations", {})
        history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h]
        if current:
            history.append(str(current))
            annotations[REVISION_HISTORY] = ",".join(history)
        annotations[REVISION] = str(max_old + 1)
        return self.cluster.write("replicasets", updated), True

    def _sync_revision_annotation(self, deployment: JsonDict, new_rs: JsonDict) -> JsonDict:
        revision = str(revision_of(new_rs))
        annotations = deployment["metadata"].get("annotations") or {}
        if annotations.get(REVISION) == revision:
            return deployment
        updated = clone(deployment)
        updated["metadata"].setdefault("annotations", {})[REVISION] = revision
        return self.cluster.write("deployments", updated)

    def _scale(self, deployment: JsonDict, rs: JsonDict, replicas: int) -> JsonDict:
        before = spec_replicas(rs)
        if before == replicas:
            return rs
        updated = clone(rs)
        updated["spec"]["replicas"] = replicas
        updated["metadata"]["generation"] = int(updated["metadata"].get("generation", 1)) + 1
        annotations = updated["metadata"].setdefault("annotations", {})
        surge, _ = surge_and_unavailable(deployment)
        desired = int(deployment["spec"].get("replicas", 1))
        annotations[DESIRED_REPLICAS] = str(desired)
        annotations[MAX_REPLICAS] = str(desired + surge)
        stored = self.cluster.write("replicasets", updated)
        direction = "up" if replicas > before else "down"
        message = (
            f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {replicas}"
        )
        self.cluster.events.record(deployment, "ScalingReplicaSet", message, DEPLOYMENT_CONTROLLER)
        return stored

    def _rolling_update(self, deployment: JsonDict, new_rs: JsonDict, old: list[JsonDict]) -> None:
        replicas = int(deployment["spec"].get("replicas", 1))
        surge, unavailable = surge_and_unavailable(deployment)
        total = sum(spec_replicas(rs) for rs in [*old, new_rs])
        if spec_replicas(new_rs) > replicas:
            new_rs = self._scale(deployment, new_rs, replicas)
        elif spec_replicas(new_rs) < replicas and total < replicas + surge:
            step = min(replicas + surge - total, replicas - spec_replicas(new_rs))
            new_rs = self._scale(deployment, new_rs, spec_replicas(new_rs) + step)
        active_old = [rs for rs in old if spec_replicas(rs) > 0]
        if not active_old:
            return
        all_pods = sum(spec_replicas(rs) for rs in [*old, new_rs])
        min_available = replicas - unavailable
        new_unavailable = max(spec_replicas(new_rs) - available_replicas(new_rs), 0)
        budget = all_pods - min_available - new_unavailable
        if budget <= 0:
            return
        for index, rs in enumerate(active_old):  # first drop old pods that are not available anyway
            cut = min(spec_replicas(rs) - available_replicas(rs), budget)
            if cut > 0:
                active_old[index] = self._scale(deployment, rs, spec_replicas(rs) - cut)
                budget -= cut
        remaining = sum(available_replicas(rs) for rs in [*old, new_rs]) - min_available
        for rs in active_old:
            cut = min(spec_replicas(rs), remaining, available_replicas(rs))
            if cut > 0:
                self._scale(deployment, rs, spec_replicas(rs) - cut)
                remaining -= cut

    def _recreate(self, deployment: JsonDict, new_rs: JsonDict, old: list[JsonDict]) -> None:
        for rs in old:
            if spec_replicas(rs) > 0:
                self._scale(deployment, rs, 0)
        if any(int((rs.get("status") or {}).get("replicas", 0)) > 0 for rs in old):
            return
        self._scale(deployment, new_rs, int(deployment["spec"].get("replicas", 1)))

    def _cleanup(self, deployment: JsonDict, old: list[JsonDict]) -> None:
        limit = int(deployment["spec"].get("revisionHistoryLimit", 10))
        idle = [
            rs
            for rs in old
            if spec_replicas(rs) == 0 and int((rs.get("status") or {}).get("replicas", 0)) == 0
        ]
        idle.sort(key=revision_of)
        for rs in idle[: max(len(idle) - limit, 0)]:
            self.cluster.store.remove(
                "replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"]
            )

    def _update_status(self, deployment: JsonDict, progress_reason: tuple[str, str] | None) -> None:
        meta = deployment["metadata"]
        deployment = (
            self.cluster.store.get("deployments", meta["namespace"], meta["name"]) or deployment
        )
        owned = self._owned(deployment)
        new_rs = self._find_new(deployment, owned)
        status = deployment_status(deployment, owned, new_rs, self.cluster.now(), progress_reason)
        if status != (deployment.get("status") or {}):
            updated = clone(deployment)
            updated["status"] = status
            self.cluster.write("deployments", updated)
