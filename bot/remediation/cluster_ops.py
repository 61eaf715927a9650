"""Pod, node and volume actions, and the declared HTTP hooks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
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
from bot.settings import HttpHook
from policies import ActionKind, BlastRadius, DeletePodParams, ExpandVolumeParams, ProposedAction

_NAMESPACES = Permission("", "namespaces", ("get",))


class _KubeOp:
    permissions: tuple[Permission, ...] = ()

    def __init__(self, api: client.ApiClient | None) -> None:
        self._api = api

    @property
    def core(self) -> Any:
        if self._api is None:
            raise ActionError("no Kubernetes cluster is configured (OPSBOT_KUBECONFIG)")
        return client.CoreV1Api(self._api)


def _suffix(dry_run: bool) -> str:
    return " (dry run)" if dry_run else ""


class DeletePod(_KubeOp):
    """Its ReplicaSet replaces it; the share is one pod of its siblings."""

    permissions = (Permission("", "pods", ("delete", "get", "list")), _NAMESPACES)

    def plan(self, action: ProposedAction) -> Plan:
        ref = action.target
        pod = kube(
            f"reading pod {ref.namespace}/{ref.name}",
            lambda: self.core.read_namespaced_pod(ref.name, ref.namespace),
        )
        labels = dict(pod.metadata.labels or {})
        siblings = 1
        template_hash = labels.get("pod-template-hash")
        if template_hash:
            listed = kube(
                f"listing pods in {ref.namespace}",
                lambda: self.core.list_namespaced_pod(
                    ref.namespace, label_selector=f"pod-template-hash={template_hash}"
                ),
            )
            siblings = max(1, len(listed.items))
        blast = BlastRadius(
            pods_affected=1, replicas_affected=1, workload_share=1 / siblings, namespaces_touched=1
        )
        return Plan(
            action=action.model_copy(update={"blast_radius": blast}),
            blast=blast,
            inverse=None,
            target_labels=labels,
            namespace_labels=namespace_labels(self.core, ref.namespace),
            facts={"node": pod.spec.node_name, "phase": pod.status.phase, "siblings": siblings},
        )

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        ref = plan.action.target
        assert isinstance(plan.action.params, DeletePodParams)
        grace = plan.action.params.grace_period_seconds
        kube(
            f"deleting pod {ref.namespace}/{ref.name}",
            lambda: self.core.delete_namespaced_pod(
                ref.name,
                ref.namespace,
                grace_period_seconds=grace,
                dry_run="All" if dry_run else None,
            ),
        )
        return f"deleted {ref}{_suffix(dry_run)}"


class SetNodeSchedulable(_KubeOp):
    """Cordon (unschedulable) or uncordon; pods already there keep running."""

    permissions = (
        Permission("", "nodes", ("get", "patch")),
        Permission("", "pods", ("list",)),
    )

    def __init__(self, api: client.ApiClient | None, *, cordon: bool) -> None:
        super().__init__(api)
        self.cordon = cordon

    def plan(self, action: ProposedAction) -> Plan:
        name = action.target.name
        node = kube(f"reading node {name}", lambda: self.core.read_node(name))
        pods = kube(
            f"listing pods on node {name}",
            lambda: self.core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={name}"),
        ).items
        blast = BlastRadius(
            pods_affected=len(pods),
            workload_share=0.0,
            namespaces_touched=len({p.metadata.namespace for p in pods}),
            nodes_touched=1,
        )
        inverse = action.model_copy(
            update={
                "id": inverse_id(action),
                "kind": ActionKind.UNCORDON_NODE if self.cordon else ActionKind.CORDON_NODE,
                "reason": f"undo {action.id}",
            }
        )
        return Plan(
            action=action.model_copy(update={"blast_radius": blast}),
            blast=blast,
            inverse=inverse,
            target_labels=dict(node.metadata.labels or {}),
            facts={"unschedulable": bool(node.spec.unschedulable), "pods": len(pods)},
            request={"spec": {"unschedulable": self.cordon}},
        )

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        name = plan.action.target.name
        verb = "cordoned" if self.cordon else "uncordoned"
        kube(
            f"patching node {name}",
            lambda: self.core.patch_node(name, plan.request, dry_run="All" if dry_run else None),
        )
        return f"{verb} node {name}{_suffix(dry_run)}"


class ExpandVolume(_KubeOp):
    permissions = (Permission("", "persistentvolumeclaims", ("get", "patch")), _NAMESPACES)

    def plan(self, action: ProposedAction) -> Plan:
        ref = action.target
        assert isinstance(action.params, ExpandVolumeParams)
        claim = kube(
            f"reading volume claim {ref.namespace}/{ref.name}",
            lambda: self.core.read_namespaced_persistent_volume_claim(ref.name, ref.namespace),
        )
        requested = (claim.spec.resources.requests or {}).get("storage")
        blast = BlastRadius(pods_affected=0, workload_share=0.0, namespaces_touched=1)
        return Plan(
            action=action.model_copy(update={"blast_radius": blast}),
            blast=blast,
            inverse=None,
            target_labels=dict(claim.metadata.labels or {}),
            namespace_labels=namespace_labels(self.core, ref.namespace),
            facts={"size": requested},
            request={"spec": {"resources": {"requests": {"storage": action.params.new_size}}}},
        )

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        ref = plan.action.target
        kube(
            f"expanding volume claim {ref.namespace}/{ref.name}",
            lambda: self.core.patch_namespaced_persistent_volume_claim(
                ref.name, ref.namespace, plan.request, dry_run="All" if dry_run else None
            ),
        )
        size = plan.request["spec"]["resources"]["requests"]["storage"]
        return f"expanded {ref} to {size}{_suffix(dry_run)}"


class CallHook:
    """POST the declared body to the declared URL. There is no dry run: the check is that
    the hook is declared."""

    permissions: tuple[Permission, ...] = ()

    def __init__(self, hooks: Mapping[str, HttpHook]) -> None:
        self.hooks = hooks

    def plan(self, action: ProposedAction) -> Plan:
        if action.hook not in self.hooks:
            raise ActionError(f"hook {action.hook!r} is not declared (OPSBOT_REMEDIATION_HOOKS)")
        return Plan(action=action, blast=action.blast_radius, inverse=None)

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        name = plan.action.hook or ""
        hook = self.hooks[name]
        if dry_run:
            return f"hook {name} is declared (POST {hook.url}); hooks have no dry run"
        try:
            response = httpx.post(
                hook.url, json=hook.body, headers=hook.headers, timeout=hook.timeout_seconds
            )
        except httpx.HTTPError as exc:
            raise ActionError(f"hook {name}: {exc}") from None
        if response.status_code >= 300:
            raise ActionError(f"hook {name}: HTTP {response.status_code} {response.text[:200]}")
        return f"hook {name}: HTTP {response.status_code}"


def operations(
    api: client.ApiClient | None, hooks: Mapping[str, HttpHook]
) -> dict[ActionKind, Operation]:
    return {
        ActionKind.DELETE_POD: DeletePod(api),
        ActionKind.CORDON_NODE: SetNodeSchedulable(api, cordon=True),
        ActionKind.UNCORDON_NODE: SetNodeSchedulable(api, cordon=False),
        ActionKind.EXPAND_VOLUME: ExpandVolume(api),
        ActionKind.HTTP_HOOK: CallHook(hooks),
    }
