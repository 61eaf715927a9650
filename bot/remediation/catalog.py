"""The closed catalog: for each `ActionKind`, a typed call (Kubernetes through the official
client with a server-side dry run first, or a declared HTTP hook), the blast radius read
from the live cluster before anything runs, and the inverse where one exists."""

from __future__ import annotations

from collections.abc import Mapping

from kubernetes import client

from bot.remediation.cleanup_ops import operations as cleanup_operations
from bot.remediation.cluster_ops import operations as cluster_operations
from bot.remediation.deployments import operations as deployment_operations
from bot.remediation.operation import Operation, Permission, Plan
from bot.remediation.resource_ops import operations as resource_operations
from bot.settings import HttpHook
from policies import ActionKind, ProposedAction


class Catalog:
    """Plans, dry-runs and runs catalog actions. `api` None: no cluster is configured."""

    def __init__(self, api: client.ApiClient | None, hooks: Mapping[str, HttpHook]) -> None:
        self.api = api
        self._ops: dict[ActionKind, Operation] = {
            **deployment_operations(api),
            **resource_operations(api),
            **cluster_operations(api, hooks),
            **cleanup_operations(api),
        }

    def operation(self, kind: ActionKind) -> Operation:
        return self._ops[kind]

    def plan(self, action: ProposedAction) -> Plan:
        return self._ops[action.kind].plan(action)

    def dry_run(self, plan: Plan) -> str:
        return self._ops[plan.action.kind].call(plan, dry_run=True)

    def execute(self, plan: Plan) -> str:
        return self._ops[plan.action.kind].call(plan, dry_run=False)


def required_permissions() -> list[Permission]:
    """Every grant the catalog uses, merged per (group, resource), verbs sorted."""
    merged: dict[tuple[str, str], set[str]] = {}
    for op in Catalog(None, {})._ops.values():
        for permission in op.permissions:
            merged.setdefault((permission.group, permission.resource), set()).update(
                permission.verbs
            )
    return [
        Permission(group, resource, tuple(sorted(verbs)))
        for (group, resource), verbs in sorted(merged.items())
    ]
