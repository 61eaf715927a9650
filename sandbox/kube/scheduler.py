"""Binds pending pods to Ready, untainted nodes with room, round-robin."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.kube.events import SCHEDULER
from sandbox.kube.objects import clone, condition_true, is_terminating, set_condition
from sandbox.kube.quantity import QuantityError, parse_quantity

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]


def pod_requests(pod: JsonDict) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {"cpu": Decimal(0), "memory": Decimal(0)}
    for container in pod["spec"].get("containers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        for name in totals:
            try:
                totals[name] += parse_quantity(requests.get(name, "0"))
            except QuantityError:
                continue
    return totals


def tolerates(pod: JsonDict, taint: JsonDict) -> bool:
    for toleration in pod["spec"].get("tolerations") or []:
        if toleration.get("effect") not in (None, "", taint.get("effect")):
            continue
        if toleration.get("operator") == "Exists" and toleration.get("key") in (
            None,
            "",
            taint.get("key"),
        ):
            return True
        if toleration.get("key") == taint.get("key") and toleration.get("value", "") == taint.get(
            "value", ""
        ):
            return True
    return False


def untolerated_taint(pod: JsonDict, node: JsonDict) -> JsonDict | None:
    for taint in node["spec"].get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(pod, taint):
            return dict(taint)
    return None


class Scheduler:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._cursor = 0
        self._last_failure: dict[str, str] = {}

    def _usage(self) -> tuple[dict[str, dict[str, Decimal]], Counter[str]]:
        usage: dict[str, dict[str, Decimal]] = {}
        counts: Counter[str] = Counter()
        for pod in self.cluster.store.items("pods"):
            node = pod["spec"].get("nodeName")
            if not node or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            counts[node] += 1
            slot = usage.setdefault(node, {"cpu": Decimal(0), "memory": Decimal(0)})
            for name, value in pod_requests(pod).items():
                slot[name] += value
        return usage, counts

    def reconcile(self) -> None:
        pending = [
            p
            for p in self.cluster.store.items("pods")
            if not p["spec"].get("nodeName")
            and not is_terminating(p)
            and p["spec"].get("schedulerName", "default-scheduler") == "default-scheduler"
        ]
        if not pending:
            return
        usage, counts = self._usage()
        nodes = self.cluster.store.items("nodes")
        for pod in pending:
            reasons: Counter[str] = Counter()
            fitting = [n for n in nodes if self._fits(pod, n, usage, counts, reasons)]
            if fitting:
                node = fitting[self._cursor % len(fitting)]
                self._cursor += 1
                self._bind(pod, node)
                name = node["metadata"]["name"]
                counts[name] += 1
                slot = usage.setdefault(name, {"cpu": Decimal(0), "memory": Decimal(0)})
                for key, value in pod_requests(pod).items():
                    slot[key] += value
            else:
                self._unschedulable(pod, len(nodes), reasons)

    def _fits(
        self,
        pod: JsonDict,
        node: JsonDict,
        usage: dict[str, dict[str, Decimal]],
        counts: Counter[str],
        reasons: Counter[str],
    ) -> bool:
        """Whether the pod fits; if not, count why as the scheduler's message does."""
        reason = self._misfit(pod, node, usage, counts)
        if reason is not None:
            reasons[reason] += 1
        return reason is None

    @staticmethod
    def _misfit(
        pod: JsonDict, node: JsonDict, usage: dict[str, dict[str, Decimal]], counts: Counter[str]
    ) -> str | None:
        name = node["metadata"]["name"]
        taint = untolerated_taint(pod, node)
        selector = pod["spec"].get("nodeSelector") or {}
        labels = node["metadata"].get("labels") or {}
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        checks: list[tuple[bool, str]] = [
            (bool(node["spec"].get("unschedulable")), "node(s) were unschedulable"),
            (
                taint is not None,
                f"node(s) had untolerated taint {{{(taint or {}).get('key')}: "
                f"{(taint or {}).get('value', '')}}}",
            ),
            (not condition_true(node.get("status"), "Ready"), "node(s) were not ready"),
            (
                any(labels.get(k) != v for k, v in selector.items()),
                "node(s) didn't match Pod's node affinity/selector",
            ),
            (
                counts[name] + 1 > int(parse_quantity(allocatable.get("pods", "110"))),
                "Too many pods",
            ),
        ]
        used = usage.get(name, {"cpu": Decimal(0), "memory": Decimal(0)})
        for resource, requested in pod_requests(pod).items():
            capacity = parse_quantity(allocatable.get(resource, "0"))
            checks.append(
                (
                    bool(requested) and used[resource] + requested > capacity,
                    f"Insufficient {resource}",
                )
            )
        return next((reason for failed, reason in checks if failed), None)

    def _bind(self, pod: JsonDict, node: JsonDict) -> None:
        updated = clone(pod)
        node_name = node["metadata"]["name"]
        updated["spec"]["nodeName"] = node_name
        status = updated.setdefault("status", {})
        set_condition(status, "PodScheduled", "True", self.cluster.now(), probe_time=True)
        self.cluster.write("pods", updated)
        self._last_failure.pop(pod["metadata"]["uid"], None)
        meta = pod["metadata"]
        message = f"Successfully assigned {meta['namespace']}/{meta['name']} to {node_name}"
        self.cluster.events.record(updated, "Scheduled", message, SCHEDULER)

    def _unschedulable(self, pod: JsonDict, node_count: int, reasons: Counter[str]) -> None:
        detail = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
        detail = detail or "no nodes available to schedule pods"
        message = (
            f"0/{node_count} nodes are available: {detail}. preemption: 0/{node_count} nodes are "
            f"available: {node_count} Preemption is not helpful for scheduling."
        )
        uid = pod["metadata"]["uid"]
        if self._last_failure.get(uid) == message:
            return
        self._last_failure[uid] = message
        updated = clone(pod)
        status = updated.setdefault("status", {})
        set_condition(
            status,
            "PodScheduled",
            "False",
            self.cluster.now(),
            "Unschedulable",
            message,
            probe_time=True,
        )
        self.cluster.write("pods", updated)
        self.cluster.events.record(updated, "FailedScheduling", message, SCHEDULER, warning=True)
