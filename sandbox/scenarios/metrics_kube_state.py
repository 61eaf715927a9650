"""kube-state-metrics series, read off the recorded cluster frames.

Labels as kube-state-metrics v2 writes them behind a ServiceMonitor (job, instance of the
kube-state-metrics pod, the object's own namespace/pod labels kept by honorLabels).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sandbox.kube.quantity import parse_quantity
from sandbox.scenarios.frames import (
    AutoscalerFrame,
    ClusterFrame,
    ClusterHistory,
    DeploymentFrame,
    PodFrame,
)
from sandbox.scenarios.openmetrics_file import OpenMetricsFile, label_text
from sandbox.scenarios.timeline import Timeline

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
KSM_PORT = 8080

Row = tuple[dict[str, str], float]


class KubeStateWriter:
    def __init__(self, out: OpenMetricsFile, history: ClusterHistory, timeline: Timeline) -> None:
        self.out = out
        self.history = history
        self.timeline = timeline
        pod = next((p for p in history.last.pods if p.workload == "kube-state-metrics"), None)
        address = f"{pod.pod_ip}:{KSM_PORT}" if pod else f"127.0.0.1:{KSM_PORT}"
        self.base = {"job": "kube-state-metrics", "instance": address}

    def _frames(self) -> Iterator[tuple[int, ClusterFrame]]:
        for at in self.timeline.grid():
            yield at, self.history.at(at)

    def _family(
        self, name: str, kind: str, help_text: str, rows: Callable[[ClusterFrame], list[Row]]
    ) -> None:
        """Collect every series' samples first: one family's series must be contiguous."""
        series: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = {}
        for at, frame in self._frames():
            for labels, value in rows(frame):
                series.setdefault(tuple(labels.items()), []).append((at, value))
        self.out.family(name, "counter" if kind == "counter" else "gauge", help_text)
        for key, points in series.items():
            text = label_text({**self.base, **dict(key)})
            for at, value in points:
                self.out.sample(text, value, at)

    def write(self) -> None:
        self._pods()
        self._containers()
        self._deployments()
        self._nodes()
        self._autoscalers()

    def _pods(self) -> None:
        def info(frame: ClusterFrame) -> list[Row]:
            return [
                (
                    {
                        **_pod(p),
                        "node": p.node,
                        "pod_ip": p.pod_ip,
                        "host_ip": p.host_ip,
                        "created_by_kind": "ReplicaSet",
                        "created_by_name": p.replicaset,
                    },
                    1.0,
                )
                for p in frame.pods
            ]

        def phase(frame: ClusterFrame) -> list[Row]:
            return [
                ({**_pod(p), "phase": ph}, 1.0 if p.phase == ph else 0.0)
                for p in frame.pods
                for ph in PHASES
            ]

        def owner(frame: ClusterFrame) -> list[Row]:
            return [
                (
                    {
                        **_pod(p),
                        "owner_kind": "ReplicaSet",
                        "owner_name": p.replicaset,
                        "owner_is_controller": "true",
                    },
                    1.0,
                )
                for p in frame.pods
            ]

        self._family("kube_pod_info", "gauge", "Information about pod.", info)
        self._family("kube_pod_owner", "gauge", "Information about the Pod's owner.", owner)
        self._family("kube_pod_status_phase", "gauge", "The pods current phase.", phase)

    def _containers(self) -> None:
        def per_container(
            value: Callable[[PodFrame, int], list[Row]],
        ) -> Callable[[ClusterFrame], list[Row]]:
            def rows(frame: ClusterFrame) -> list[Row]:
                return [
                    row
                    for p in frame.pods
                    for index in range(len(p.containers))
                    for row in value(p, index)
                ]

            return rows

        def ready(p: PodFrame, i: int) -> list[Row]:
            return [(_container(p, i), 1.0 if p.containers[i].ready else 0.0)]

        def restarts(p: PodFrame, i: int) -> list[Row]:
            return [(_container(p, i), float(p.containers[i].restarts))]

        def waiting(p: PodFrame, i: int) -> list[Row]:
            reason = p.containers[i].waiting_reason
            return [({**_container(p, i), "reason": reason}, 1.0)] if reason else []

        def terminated(p: PodFrame, i: int) -> list[Row]:
            reason = p.containers[i].last_terminated_reason
            return [({**_container(p, i), "reason": reason}, 1.0)] if reason else []

        def resources(kind: str) -> Callable[[PodFrame, int], list[Row]]:
            def rows(p: PodFrame, i: int) -> list[Row]:
                box = p.containers[i]
                amounts = box.limits if kind == "limits" else box.requests
                return [
                    (
                        {**_container(p, i), "node": p.node, "resource": name, "unit": unit},
                        _quantity(amounts[name]),
                    )
                    for name, unit in (("cpu", "core"), ("memory", "byte"))
                    if name in amounts
                ]

            return rows

        self._family(
            "kube_pod_container_status_ready",
            "gauge",
            "Describes whether the containers readiness check succeeded.",
            per_container(ready),
        )
        self._family(
            "kube_pod_container_status_restarts",
            "counter",
            "The number of container restarts per container.",
            per_container(restarts),
        )
        self._family(
            "kube_pod_container_status_waiting_reason",
            "gauge",
            "Describes the reason the container is currently in waiting state.",
            per_container(waiting),
        )
        self._family(
            "kube_pod_container_status_last_terminated_reason",
            "gauge",
            "Describes the last reason the container was in terminated state.",
            per_container(terminated),
        )
        self._family(
            "kube_pod_container_resource_limits",
            "gauge",
            "The number of requested limit resource by a container.",
            per_container(resources("limits")),
        )
        self._family(
            "kube_pod_container_resource_requests",
            "gauge",
            "The number of requested request resource by a container.",
            per_container(resources("requests")),
        )

    def _deployments(self) -> None:
        fields: tuple[tuple[str, str, Callable[[DeploymentFrame], float]], ...] = (
            ("kube_deployment_spec_replicas", "Number of desired pods.", lambda d: d.replicas),
            (
                "kube_deployment_status_replicas",
                "The number of replicas per deployment.",
                lambda d: d.status_replicas,
            ),
            (
                "kube_deployment_status_replicas_available",
                "The number of available replicas per deployment.",
                lambda d: d.available,
            ),
            (
                "kube_deployment_status_replicas_unavailable",
                "The number of unavailable replicas per deployment.",
                lambda d: max(0, d.status_replicas - d.available),
            ),
            (
                "kube_deployment_status_replicas_updated",
                "The number of updated replicas per deployment.",
                lambda d: d.updated,
            ),
            (
                "kube_deployment_status_observed_generation",
                "The generation observed by the deployment controller.",
                lambda d: d.observed_generation,
            ),
            (
                "kube_deployment_metadata_generation",
                "Sequence number representing a specific generation of the desired state.",
                lambda d: d.generation,
            ),
        )
        for name, help_text, read in fields:
            self._family(name, "gauge", help_text, _deployment_rows(read))

        def condition(frame: ClusterFrame) -> list[Row]:
            return [
                (
                    {
                        "namespace": d.namespace,
                        "deployment": d.name,
                        "condition": "Progressing",
                        "status": status,
                    },
                    1.0 if d.progressing.lower() == status else 0.0,
                )
                for d in frame.deployments
                for status in ("true", "false", "unknown")
            ]

        self._family(
            "kube_deployment_status_condition",
            "gauge",
            "The current status conditions of a deployment.",
            condition,
        )

    def _nodes(self) -> None:
        def ready(frame: ClusterFrame) -> list[Row]:
            return [
                (
                    {"node": n.name, "condition": "Ready", "status": status},
                    1.0 if n.ready.lower() == status else 0.0,
                )
                for n in frame.nodes
                for status in ("true", "false", "unknown")
            ]

        def unschedulable(frame: ClusterFrame) -> list[Row]:
            return [({"node": n.name}, 1.0 if n.unschedulable else 0.0) for n in frame.nodes]

        def taints(frame: ClusterFrame) -> list[Row]:
            return [
                ({"node": n.name, "key": key, "value": "", "effect": effect}, 1.0)
                for n in frame.nodes
                for key, effect in n.taints
            ]

        self._family(
            "kube_node_status_condition", "gauge", "The condition of a cluster node.", ready
        )
        self._family(
            "kube_node_spec_unschedulable",
            "gauge",
            "Whether a node can schedule new pods.",
            unschedulable,
        )
        self._family("kube_node_spec_taint", "gauge", "The taint of a cluster node.", taints)

    def _autoscalers(self) -> None:
        """kube-state-metrics' horizontalpodautoscaler families (v2 metric names)."""

        def key(h: AutoscalerFrame) -> dict[str, str]:
            return {"namespace": h.namespace, "horizontalpodautoscaler": h.name}

        def info(frame: ClusterFrame) -> list[Row]:
            return [
                (
                    {
                        **key(h),
                        "scaletargetref_api_version": h.target_api_version,
                        "scaletargetref_kind": h.target_kind,
                        "scaletargetref_name": h.target_name,
                    },
                    1.0,
                )
                for h in frame.autoscalers
            ]

        def number(read: Callable[[AutoscalerFrame], float]) -> Callable[[ClusterFrame], list[Row]]:
            def rows(frame: ClusterFrame) -> list[Row]:
                return [(key(h), float(read(h))) for h in frame.autoscalers]

            return rows

        def target(frame: ClusterFrame) -> list[Row]:
            return [
                (
                    {**key(h), "metric_name": "cpu", "metric_target_type": "utilization"},
                    float(h.cpu_target),
                )
                for h in frame.autoscalers
                if h.cpu_target is not None
            ]

        def condition(frame: ClusterFrame) -> list[Row]:
            return [
                (
                    {**key(h), "condition": kind, "status": status},
                    1.0 if seen.lower() == status else 0.0,
                )
                for h in frame.autoscalers
                for kind, seen in h.conditions
                for status in ("true", "false", "unknown")
            ]

        self._family(
            "kube_horizontalpodautoscaler_info", "gauge", "Information about this autoscaler.", info
        )
        for name, help_text, read in (
            (
                "kube_horizontalpodautoscaler_spec_max_replicas",
                "Upper limit for the number of pods that can be set by the autoscaler; cannot "
                "be smaller than MinReplicas.",
                lambda h: h.max_replicas,
            ),
            (
                "kube_horizontalpodautoscaler_spec_min_replicas",
                "Lower limit for the number of pods that can be set by the autoscaler, default 1.",
                lambda h: h.min_replicas,
            ),
            (
                "kube_horizontalpodautoscaler_status_current_replicas",
                "Current number of replicas of pods managed by this autoscaler.",
                lambda h: h.current_replicas,
            ),
            (
                "kube_horizontalpodautoscaler_status_desired_replicas",
                "Desired number of replicas of pods managed by this autoscaler.",
                lambda h: h.desired_replicas,
            ),
        ):
            self._family(name, "gauge", help_text, number(read))
        self._family(
            "kube_horizontalpodautoscaler_spec_target_metric",
            "gauge",
            "The metric specifications used by this autoscaler when calculating the desired "
            "replica count.",
            target,
        )
        self._family(
            "kube_horizontalpodautoscaler_status_condition",
            "gauge",
            "The condition of this autoscaler.",
            condition,
        )


def _pod(p: PodFrame) -> dict[str, str]:
    return {"namespace": p.namespace, "pod": p.name, "uid": p.uid}


def _container(p: PodFrame, index: int) -> dict[str, str]:
    return {**_pod(p), "container": p.containers[index].name}


def _quantity(text: str) -> float:
    """A Kubernetes quantity in cores or bytes."""
    return float(parse_quantity(text))


def _deployment_rows(
    read: Callable[[DeploymentFrame], float],
) -> Callable[[ClusterFrame], list[Row]]:
    def rows(frame: ClusterFrame) -> list[Row]:
        return [
            ({"namespace": d.namespace, "deployment": d.name}, float(read(d)))
            for d in frame.deployments
        ]

    return rows
