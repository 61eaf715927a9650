"""Deployment actions: rollout restart, scale, rollback to a previous revision, pause and
resume. Each sends what `kubectl` would send, so the API server does the real work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from bot.remediation.operation import (
    ActionError,
    Operation,
    Permission,
    Plan,
    inverse_id,
    kube,
    namespace_labels,
)
from policies import (
    ActionKind,
    BlastRadius,
    ProposedAction,
    RollbackParams,
    ScaleParams,
)

REVISION = "deployment.kubernetes.io/revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_READ = (
    Permission("apps", "deployments", ("get",)),
    Permission("", "namespaces", ("get",)),
)
_PATCH = Permission("apps", "deployments", ("patch",))


class _DeploymentOp:
    permissions: tuple[Permission, ...] = (*_READ, _PATCH)

    def __init__(self, api: client.ApiClient | None) -> None:
        self._api = api

    @property
    def apps(self) -> Any:
        return client.AppsV1Api(self._require())

    @property
    def core(self) -> Any:
        return client.CoreV1Api(self._require())

    def _require(self) -> client.ApiClient:
        if self._api is None:
            raise ActionError("no Kubernetes cluster is configured (OPSBOT_KUBECONFIG)")
        return self._api

    def read(self, action: ProposedAction) -> Any:
        ref = action.target
        return kube(
            f"reading deployment {ref.namespace}/{ref.name}",
            lambda: self.apps.read_namespaced_deployment(ref.name, ref.namespace),
        )

    def base_plan(self, action: ProposedAction, deployment: Any, blast: BlastRadius) -> Plan:
        spec, status = deployment.spec, deployment.status
        return Plan(
            action=action.model_copy(update={"blast_radius": blast}),
            blast=blast,
            inverse=None,
            target_labels=dict(deployment.metadata.labels or {}),
            namespace_labels=namespace_labels(self.core, action.target.namespace),
            facts={
                "replicas": int(spec.replicas if spec.replicas is not None else 1),
                "ready_replicas": int((status and status.ready_replicas) or 0),
                "revision": (deployment.metadata.annotations or {}).get(REVISION),
                "images": [c.image for c in spec.template.spec.containers],
                "paused": bool(spec.paused),
            },
        )

    def patch(self, plan: Plan, body: Any, *, dry_run: bool, verb: str) -> str:
        ref = plan.action.target
        result = kube(
            f"{verb} deployment {ref.namespace}/{ref.name}",
            lambda: self.apps.patch_namespaced_deployment(
                ref.name, ref.namespace, body, dry_run="All" if dry_run else None
            ),
        )
        generation = result.metadata.generation
        return f"{verb} {ref}{' (dry run)' if dry_run else ''}: generation {generation}"


def _whole_workload(deployment: Any) -> BlastRadius:
    replicas = int(deployment.spec.replicas if deployment.spec.replicas is not None else 1)
    pods = int((deployment.status and deployment.status.replicas) or replicas)
    return BlastRadius(
        pods_affected=pods, replicas_affected=replicas, workload_share=1.0, namespaces_touched=1
    )


class RestartDeployment(_DeploymentOp):
    def plan(self, action: ProposedAction) -> Plan:
        deployment = self.read(action)
        plan = self.base_plan(action, deployment, _whole_workload(deployment))
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        plan.request = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        return plan

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        return self.patch(plan, plan.request, dry_run=dry_run, verb="restarted")


class ScaleDeployment(_DeploymentOp):
    permissions = (*_READ, Permission("apps", "deployments/scale", ("patch",)))

    def plan(self, action: ProposedAction) -> Plan:
        assert isinstance(action.params, ScaleParams)
        deployment = self.read(action)
        current = int(deployment.spec.replicas if deployment.spec.replicas is not None else 1)
        wanted = action.params.replicas
        change = abs(wanted - current)
        blast = BlastRadius(
            pods_affected=change,
            replicas_affected=change,
            workload_share=min(1.0, change / max(current, 1)),
            namespaces_touched=1,
        )
        completed = action.model_copy(
            update={"params": ScaleParams(replicas=wanted, previous_replicas=current)}
        )
        plan = self.base_plan(completed, deployment, blast)
        plan.inverse = completed.model_copy(
            update={
                "id": inverse_id(action),
                "params": ScaleParams(replicas=current, previous_replicas=wanted),
                "reason": f"undo {action.id}: scale back to {current}",
            }
        )
        plan.request = {"spec": {"replicas": wanted}}
        return plan

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        ref = plan.action.target
        result = kube(
            f"scaling deployment {ref.namespace}/{ref.name}",
            lambda: self.apps.patch_namespaced_deployment_scale(
                ref.name, ref.namespace, plan.request, dry_run="All" if dry_run else None
            ),
        )
        return f"scaled {ref} to {result.spec.replicas}{' (dry run)' if dry_run else ''}"


class RollbackDeployment(_DeploymentOp):
    """`kubectl rollout undo`: the chosen revision's ReplicaSet template, patched back in."""

    permissions = (*_READ, _PATCH, Permission("apps", "replicasets", ("list",)))

    def plan(self, action: ProposedAction) -> Plan:
        assert isinstance(action.params, RollbackParams)
        deployment = self.read(action)
        ref = action.target
        listed = kube(
            f"listing replica sets in {ref.namespace}",
            lambda: self.apps.list_namespaced_replica_set(ref.namespace),
        )
        owned = {
            int((rs.metadata.annotations or {}).get(REVISION, "0")): rs
            for rs in listed.items
            if any(
                o.uid == deployment.metadata.uid and o.controller
                for o in rs.metadata.owner_references or []
            )
        }
        current = int((deployment.metadata.annotations or {}).get(REVISION, "0"))
        wanted = action.params.to_revision
        if wanted is None:
            older = [revision for revision in owned if 0 < revision < current]
            if not older:
                raise ActionError(f"{ref} has no previous revision to roll back to")
            wanted = max(older)
        if wanted not in owned or wanted == current:
            raise ActionError(f"{ref} has no revision {wanted} to roll back to (now {current})")
        serializer: Any = client.ApiClient()
        template = serializer.sanitize_for_serialization(owned[wanted].spec.template)
        template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
        annotations = {
            k: v for k, v in (deployment.metadata.annotations or {}).items() if k == REVISION
        }
        plan = self.base_plan(action, deployment, _whole_workload(deployment))
        plan.facts.update(
            from_revision=current,
            to_revision=wanted,
            to_images=[c["image"] for c in template["spec"]["containers"]],
        )
        plan.inverse = action.model_copy(
            update={
                "id": inverse_id(action),
                "params": RollbackParams(to_revision=current),
                "reason": f"undo {action.id}: back to revision {current}",
            }
        )
        plan.request = [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ]
        return plan

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        note = self.patch(plan, plan.request, dry_run=dry_run, verb="rolled back")
        return (
            f"{note} to revision {plan.facts['to_revision']} ({', '.join(plan.facts['to_images'])})"
        )


class SetRolloutPaused(_DeploymentOp):
    def __init__(self, api: client.ApiClient | None, *, paused: bool) -> None:
        super().__init__(api)
        self.paused = paused

    def plan(self, action: ProposedAction) -> Plan:
        deployment = self.read(action)
        plan = self.base_plan(action, deployment, BlastRadius(pods_affected=0, workload_share=0.0))
        plan.inverse = action.model_copy(
            update={
                "id": inverse_id(action),
                "kind": ActionKind.RESUME_ROLLOUT if self.paused else ActionKind.PAUSE_ROLLOUT,
                "reason": f"undo {action.id}",
            }
        )
        plan.request = {"spec": {"paused": self.paused}}
        return plan

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        verb = "paused the rollout of" if self.paused else "resumed the rollout of"
        return self.patch(plan, plan.request, dry_run=dry_run, verb=verb)


def operations(api: client.ApiClient | None) -> dict[ActionKind, Operation]:
    return {
        ActionKind.RESTART_DEPLOYMENT: RestartDeployment(api),
        ActionKind.SCALE_DEPLOYMENT: ScaleDeployment(api),
        ActionKind.ROLLBACK_DEPLOYMENT: RollbackDeployment(api),
        ActionKind.PAUSE_ROLLOUT: SetRolloutPaused(api, paused=True),
        ActionKind.RESUME_ROLLOUT: SetRolloutPaused(api, paused=False),
    }
