"""Housekeeping deletions: a finished job left behind, an unattached volume claim.

Both refuse at planning time when the object is still in use (a job with active pods, a
claim some pod mounts), so a stale recommendation cannot delete something live. Neither has
an inverse: a deleted claim's data may be gone for good, which is why the shipped policy
forbids `delete_pvc` in production.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from bot.remediation.operation import (
    ActionError,
    Operation,
    Permission,
    Plan,
    kube,
    namespace_labels,
)
from policies import ActionKind, BlastRadius, ProposedAction

_NAMESPACES = Permission("", "namespaces", ("get",))
_NOTHING_RUNS = BlastRadius(pods_affected=0, workload_share=0.0, namespaces_touched=1)


class _Cleanup:
    def __init__(self, api: client.ApiClient | None) -> None:
        self._api = api

    def _require(self) -> client.ApiClient:
        if self._api is None:
            raise ActionError("no Kubernetes cluster is configured (OPSBOT_KUBECONFIG)")
        return self._api

    @property
    def core(self) -> Any:
        return client.CoreV1Api(self._require())

    @property
    def batch(self) -> Any:
        return client.BatchV1Api(self._require())

    def finish(self, action: ProposedAction, labels: Any, facts: dict[str, Any]) -> Plan:
        return Plan(
            action=action.model_copy(update={"blast_radius": _NOTHING_RUNS}),
            blast=_NOTHING_RUNS,
            inverse=None,
            target_labels=dict(labels or {}),
            namespace_labels=namespace_labels(self.core, action.target.namespace),
            facts=facts,
        )


# Deletions are sent with `_preload_content=False`: the API server answers with the object
# (a claim held by its protection finalizer) or a Status (gone at once); either is fine.
def _dry(dry_run: bool) -> str | None:
    return "All" if dry_run else None


class DeleteJob(_Cleanup):
    """Deletes the job and, in the background, its pods (propagationPolicy Background)."""

    permissions = (
        Permission("batch", "jobs", ("delete", "get")),
        _NAMESPACES,
    )

    def plan(self, action: ProposedAction) -> Plan:
        ref = action.target
        job = kube(
            f"reading job {ref.namespace}/{ref.name}",
            lambda: self.batch.read_namespaced_job(ref.name, ref.namespace),
        )
        status = job.status
        active = int((status and status.active) or 0)
        if active:
            raise ActionError(f"job {ref.namespace}/{ref.name} still has {active} active pod(s)")
        conditions = (
            [c.type for c in (status.conditions or []) if c.status == "True"] if status else []
        )
        facts = {
            "failed": int((status and status.failed) or 0),
            "succeeded": int((status and status.succeeded) or 0),
            "conditions": conditions,
        }
        return self.finish(action, job.metadata.labels, facts)

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        ref = plan.action.target
        kube(
            f"deleting job {ref.namespace}/{ref.name}",
            lambda: self.batch.delete_namespaced_job(
                ref.name,
                ref.namespace,
                propagation_policy="Background",
                dry_run=_dry(dry_run),
                _preload_content=False,
            ),
        )
        return f"deleted {ref} and its pods{' (dry run)' if dry_run else ''}"


def mounted_by(pods: list[Any], claim: str) -> list[str]:
    """Names of the pods (not finished) whose volumes use the claim."""
    return [
        pod.metadata.name
        for pod in pods
        if (pod.status is None or pod.status.phase not in ("Succeeded", "Failed"))
        and any(
            v.persistent_volume_claim is not None and v.persistent_volume_claim.claim_name == claim
            for v in (pod.spec.volumes or [])
        )
    ]


class DeleteVolumeClaim(_Cleanup):
    permissions = (
        Permission("", "persistentvolumeclaims", ("delete", "get")),
        Permission("", "pods", ("list",)),
        _NAMESPACES,
    )

    def plan(self, action: ProposedAction) -> Plan:
        ref = action.target
        claim = kube(
            f"reading volume claim {ref.namespace}/{ref.name}",
            lambda: self.core.read_namespaced_persistent_volume_claim(ref.name, ref.namespace),
        )
        pods = kube(
            f"listing pods in {ref.namespace}",
            lambda: self.core.list_namespaced_pod(ref.namespace),
        ).items
        users = mounted_by(pods, ref.name)
        if users:
            raise ActionError(f"{ref} is mounted by pod {', '.join(sorted(users))}")
        spec = claim.spec
        facts = {
            "size": ((spec.resources and spec.resources.requests) or {}).get("storage"),
            "storage_class": spec.storage_class_name,
            "volume": spec.volume_name,
            "phase": claim.status.phase if claim.status else None,
        }
        return self.finish(action, claim.metadata.labels, facts)

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        ref = plan.action.target
        kube(
            f"deleting volume claim {ref.namespace}/{ref.name}",
            lambda: self.core.delete_namespaced_persistent_volume_claim(
                ref.name, ref.namespace, dry_run=_dry(dry_run), _preload_content=False
            ),
        )
        return f"deleted {ref}{' (dry run)' if dry_run else ''}"


def operations(api: client.ApiClient | None) -> dict[ActionKind, Operation]:
    return {
        ActionKind.DELETE_JOB: DeleteJob(api),
        ActionKind.DELETE_PVC: DeleteVolumeClaim(api),
    }
