"""`set_resources`: one container's requests and limits, sent as the strategic-merge patch
`kubectl set resources` sends, so the deployment controller rolls the pods out.

The plan reads the live values into the `previous_*` params (whatever the proposer thought
they were), which makes the inverse exact: the same action with the two sides swapped.
"""

from __future__ import annotations

import re
from typing import Any

from kubernetes import client

from bot.remediation.deployments import _DeploymentOp, _whole_workload
from bot.remediation.operation import ActionError, Operation, Plan, inverse_id
from policies import ActionKind, ProposedAction, SetResourcesParams
from policies.quantities import (
    CPU_PATTERN,
    MEMORY_PATTERN,
    cpu_text,
    memory_text,
    parse_cpu,
    parse_memory,
)

_FIELDS = {
    "cpu_request": ("requests", "cpu"),
    "cpu_limit": ("limits", "cpu"),
    "memory_request": ("requests", "memory"),
    "memory_limit": ("limits", "memory"),
}


def container_of(deployment: Any, name: str) -> Any:
    for container in deployment.spec.template.spec.containers:
        if container.name == name:
            return container
    known = ", ".join(c.name for c in deployment.spec.template.spec.containers)
    raise ActionError(f"deployment has no container {name!r} (it has {known})")


def canonical(field: str, value: str | None) -> str | None:
    """The live quantity as the params accept it: as is when it fits (`500M` stays, so the
    undo restores it exactly), else normalised (`0.5000` → `500m`)."""
    if value is None:
        return None
    cpu = field.startswith("cpu")
    if re.match(CPU_PATTERN if cpu else MEMORY_PATTERN, value):
        return value
    try:
        return cpu_text(parse_cpu(value)) if cpu else memory_text(parse_memory(value))
    except ValueError:
        raise ActionError(f"cannot read the current {field} {value!r}") from None


def _amount(field: str, value: str | None) -> float | None:
    if value is None:
        return None
    return parse_cpu(value) if field.startswith("cpu") else float(parse_memory(value))


def live_resources(container: Any) -> dict[str, str | None]:
    """The container's current requests/limits keyed like the params."""
    resources = container.resources
    found: dict[str, str | None] = {}
    for field, (section, resource) in _FIELDS.items():
        values = getattr(resources, section, None) if resources is not None else None
        found[field] = canonical(field, (values or {}).get(resource))
    return found


def same_resources(container: Any, params: SetResourcesParams) -> bool:
    """Does the container (of a template or a pod) carry exactly the params' values?"""
    live = live_resources(container)
    return all(
        _amount(field, live[field]) == _amount(field, getattr(params, field)) for field in _FIELDS
    )


def resources_patch(params: SetResourcesParams) -> dict[str, Any]:
    """Strategic merge on the container list (merge key `name`); None deletes a key."""
    resources: dict[str, dict[str, str | None]] = {"requests": {}, "limits": {}}
    for field, (section, resource) in _FIELDS.items():
        resources[section][resource] = getattr(params, field)
    container = {"name": params.container, "resources": resources}
    return {"spec": {"template": {"spec": {"containers": [container]}}}}


class SetResources(_DeploymentOp):
    def plan(self, action: ProposedAction) -> Plan:
        assert isinstance(action.params, SetResourcesParams)
        deployment = self.read(action)
        live = live_resources(container_of(deployment, action.params.container))
        wanted = action.params.model_copy(
            update={f"previous_{field}": value for field, value in live.items()}
        )
        completed = action.model_copy(update={"params": wanted})
        plan = self.base_plan(completed, deployment, _whole_workload(deployment))
        plan.facts.update(container=wanted.container, previous=live, changes=wanted.changes())
        plan.inverse = completed.model_copy(
            update={
                "id": inverse_id(action),
                "params": wanted.undone(),
                "reason": f"undo {action.id}: back to the previous requests and limits",
            }
        )
        plan.request = resources_patch(wanted)
        return plan

    def call(self, plan: Plan, *, dry_run: bool) -> str:
        params = plan.action.params
        assert isinstance(params, SetResourcesParams)
        shown = ", ".join(
            f"{field} {before or 'unset'}→{after or 'unset'}"
            for field, before, after in params.changes()
        )
        note = self.patch(plan, plan.request, dry_run=dry_run, verb="set resources of")
        return f"{note} ({params.container}: {shown or 'no change'})"


def operations(api: client.ApiClient | None) -> dict[ActionKind, Operation]:
    return {ActionKind.SET_RESOURCES: SetResources(api)}
