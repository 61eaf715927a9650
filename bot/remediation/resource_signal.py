"""Validation of `set_resources`: the new requests/limits are rolled out to every replica and
no container running with them was OOMKilled or is crash-looping.

Read before the change, the signal is 1 ("not rolled out yet"); while the rollout runs it
stays 1 (not recovered, not worse); clear (None) once every replica runs the new values
healthily; OOM kills or crash loops under the new values read far above 1, so the executor
sees "worse" and applies the inverse (the previous values).
"""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from bot.remediation.operation import ActionError
from bot.remediation.resource_ops import container_of, same_resources
from bot.remediation.validation import WAITING_BAD, Reading
from policies import SetResourcesParams

PENDING = 1.0
BROKEN = 10.0


def _oom_killed(status: Any) -> bool:
    for state in (status.state, status.last_state):
        terminated = state.terminated if state is not None else None
        if terminated is not None and terminated.reason == "OOMKilled":
            return True
    return False


def _stuck(status: Any) -> bool:
    waiting = status.state.waiting if status.state is not None else None
    return waiting is not None and waiting.reason in WAITING_BAD


class ResourcesSignal:
    def __init__(
        self, api: client.ApiClient, namespace: str, deployment: str, params: SetResourcesParams
    ) -> None:
        self.apps: Any = client.AppsV1Api(api)
        self.core: Any = client.CoreV1Api(api)
        self.namespace = namespace
        self.deployment = deployment
        self.params = params
        self.description = (
            f"rollout of the new resources of {namespace}/{deployment} ({params.container}): "
            "every replica updated and available, none OOMKilled"
        )

    def read(self) -> Reading:
        try:
            found = self.apps.read_namespaced_deployment(self.deployment, self.namespace)
            if not same_resources(container_of(found, self.params.container), self.params):
                return Reading(PENDING, "the pod template does not carry the new values yet")
            selector = ",".join(f"{k}={v}" for k, v in found.spec.selector.match_labels.items())
            pods = self.core.list_namespaced_pod(self.namespace, label_selector=selector).items
        except ApiException as exc:
            return Reading(None, f"Kubernetes error {exc.status}", error=True)
        except ActionError as exc:
            return Reading(None, str(exc), error=True)
        broken = self._broken(pods)
        if broken:
            return Reading(BROKEN + len(broken), "; ".join(broken))
        return self._progress(found)

    def _broken(self, pods: list[Any]) -> list[str]:
        """Containers running the new values that were OOMKilled or are stuck."""
        found: list[str] = []
        for pod in pods:
            spec = next((c for c in pod.spec.containers if c.name == self.params.container), None)
            if spec is None or not same_resources(spec, self.params):
                continue
            for status in pod.status.container_statuses or []:
                if status.name != self.params.container:
                    continue
                if _oom_killed(status):
                    found.append(f"{pod.metadata.name} OOMKilled ({status.restart_count} restarts)")
                elif _stuck(status):
                    found.append(f"{pod.metadata.name} {status.state.waiting.reason}")
        return found

    def _progress(self, deployment: Any) -> Reading:
        spec, status = deployment.spec, deployment.status
        wanted = int(spec.replicas if spec.replicas is not None else 1)
        observed = int((status and status.observed_generation) or 0)
        updated = int((status and status.updated_replicas) or 0)
        available = int((status and status.available_replicas) or 0)
        total = int((status and status.replicas) or 0)
        note = f"{updated}/{wanted} updated, {available}/{wanted} available"
        done = observed >= int(deployment.metadata.generation or 0)
        if done and updated >= wanted and available >= wanted and total <= wanted:
            return Reading(None, f"rolled out: {note}, no OOMKilled container")
        return Reading(PENDING, f"rollout in progress: {note}")
