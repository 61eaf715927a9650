"""Node faults: NotReady/Unknown nodes are tainted, their pods evicted, and healed after."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sandbox.kube import Fault, KubeSandbox


def _core(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed CoreV1Api, used as Any: every field of its models is Optional."""
    return client.CoreV1Api(sandbox.api_client(token))


def test_node_not_ready_taints_the_node_and_evicts_pods_after_the_toleration(
    kube: KubeSandbox,
) -> None:
    core = _core(kube)
    victims = [
        p.metadata.name
        for p in core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-2").items
    ]
    fault = kube.cluster.add_fault(Fault(kind="node_not_ready", node="node-2"))
    node = core.read_node("node-2")
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason, ready.message) == (
        "Unknown",
        "NodeStatusUnknown",
        "Kubelet stopped posting node status.",
    )
    assert {(t.key, t.effect) for t in node.spec.taints} == {
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    }
    on_node = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-2").items
    assert all(
        next(c for c in p.status.conditions if c.type == "Ready").status == "False" for p in on_node
    )
    kube.cluster.advance(310)
    stuck = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-2").items
    assert {p.metadata.name for p in stuck} == set(victims)
    assert all(p.metadata.deletion_timestamp for p in stuck)
    replacements = [
        p for p in core.list_namespaced_pod("prod").items if p.metadata.deletion_timestamp is None
    ]
    assert all(p.spec.node_name in ("node-1", "node-3") for p in replacements)
    assert len(replacements) == 6
    reasons = {e.reason for e in core.list_event_for_all_namespaces().items}
    assert {"NodeNotReady", "TaintManagerEviction"} <= reasons
    kube.cluster.remove_fault(fault.id)
    kube.cluster.advance(3)
    assert core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-2").items == []
    assert (
        next(c for c in core.read_node("node-2").status.conditions if c.type == "Ready").status
        == "True"
    )


def test_kubelet_not_ready_variant_and_unreachable_logs(kube: KubeSandbox) -> None:
    core = _core(kube)
    pod = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-1").items[0]
    kube.cluster.add_fault(Fault(kind="node_not_ready", node="node-1", node_status="False"))
    node = core.read_node("node-1")
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason) == ("False", "KubeletNotReady")
    assert {t.key for t in node.spec.taints} == {"node.kubernetes.io/not-ready"}
    with pytest.raises(ApiException) as error:
        core.read_namespaced_pod_log(
            pod.metadata.name, pod.metadata.namespace, container=pod.spec.containers[0].name
        )
    assert error.value.status == 500
    assert "10250" in str(error.value.body)
