"""HorizontalPodAutoscalers reacting to an incident's load, the way the HPA controller does.

The stand-in runs no HPA controller (it has no metrics API); a scenario's `autoscale` entries
say what an HPA measures from the incident start on, and this module does what the
controller would with that reading: desired = ceil(current x utilization / target), kept
within minReplicas..maxReplicas, the target rescaled through its scale subresource, the
status and conditions written through `/status` in the controller's words, and a
SuccessfulRescale event recorded.
"""

from __future__ import annotations

import math
from typing import Any

from kubernetes import client

from sandbox.kube import Cluster, KubeSandbox
from sandbox.kube.clock import format_time
from sandbox.kube.events import Source
from sandbox.scenarios.spec import Autoscale

HPA_CONTROLLER = Source("horizontal-pod-autoscaler")
CPU_METRIC = "cpu resource utilization (percentage of request)"


def wanted_replicas(current: int, utilization: int, target: int | None) -> int:
    """The HPA algorithm for one Resource metric, before the min/max clamp."""
    return math.ceil(current * utilization / target) if target else current


def apply_autoscale(kube: KubeSandbox, cluster: Cluster, entries: tuple[Autoscale, ...]) -> None:
    """Rescale each named HPA's target for its measured utilisation and record its status."""
    hpas: Any = client.AutoscalingV2Api(kube.api_client())
    apps: Any = client.AppsV1Api(kube.api_client())
    for entry in entries:
        hpa = hpas.read_namespaced_horizontal_pod_autoscaler(entry.hpa, entry.namespace)
        spec = hpa.spec
        target = next(
            (
                m.resource.target.average_utilization
                for m in spec.metrics or []
                if m.resource is not None and m.resource.name == "cpu"
            ),
            None,
        )
        scale = apps.read_namespaced_deployment_scale(spec.scale_target_ref.name, entry.namespace)
        current = int(scale.status.replicas or scale.spec.replicas or 0)
        low, high = int(spec.min_replicas or 1), int(spec.max_replicas)
        wanted = wanted_replicas(current, entry.utilization, target)
        desired = max(low, min(high, wanted))
        now = format_time(cluster.now())
        spread = round(entry.utilization * current / desired) if desired else entry.utilization
        conditions = [
            _condition(
                "AbleToScale",
                "SucceededRescale",
                f"the HPA controller was able to update the target scale to {desired}",
                now,
            ),
            _condition(
                "ScalingActive",
                "ValidMetricFound",
                f"the HPA was able to successfully calculate a replica count from {CPU_METRIC}",
                now,
            ),
        ]
        if wanted > high:
            conditions.append(
                _condition(
                    "ScalingLimited",
                    "TooManyReplicas",
                    "the desired replica count is more than the maximum replica count",
                    now,
                )
            )
        if desired != current:
            apps.patch_namespaced_deployment_scale(
                spec.scale_target_ref.name, entry.namespace, {"spec": {"replicas": desired}}
            )
        status = {
            "observedGeneration": hpa.metadata.generation,
            "lastScaleTime": now,
            "currentReplicas": desired,
            "desiredReplicas": desired,
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {"averageUtilization": spread},
                    },
                }
            ],
            "conditions": conditions,
        }
        hpas.patch_namespaced_horizontal_pod_autoscaler_status(
            entry.hpa, entry.namespace, {"status": status}
        )
        if desired != current:
            with cluster.lock:
                stored = cluster.store.get("horizontalpodautoscalers", entry.namespace, entry.hpa)
                if stored is not None:
                    above = "above" if desired > current else "below"
                    cluster.events.record(
                        stored,
                        "SuccessfulRescale",
                        f"New size: {desired}; reason: {CPU_METRIC} {above} target",
                        HPA_CONTROLLER,
                    )


def _condition(kind: str, reason: str, message: str, now: str) -> dict[str, str]:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": now,
    }
