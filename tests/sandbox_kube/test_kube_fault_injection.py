"""Injected faults look like the real failures, and real remediation heals them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sandbox.kube import Fault, KubeSandbox

BAD_IMAGE = "registry.example.com/shop/checkout:2.0.0"


def _apps(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed AppsV1Api, used as Any: every field of its models is Optional."""
    return client.AppsV1Api(sandbox.api_client(token))


def _core(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed CoreV1Api, used as Any: every field of its models is Optional."""
    return client.CoreV1Api(sandbox.api_client(token))


def _pods(kube: KubeSandbox, app: str, namespace: str = "prod") -> list[Any]:
    pods = _core(kube).list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def _events(kube: KubeSandbox, namespace: str = "prod") -> list[Any]:
    items: list[Any] = _core(kube).list_namespaced_event(namespace).items
    return items


def test_oom_fault_gives_oomkilled_then_crashloopbackoff_with_growing_backoff(
    kube: KubeSandbox,
) -> None:
    kube.cluster.add_fault(
        Fault(kind="oom", namespace="prod", deployment="payments", container="app", after_seconds=5)
    )
    backoffs: list[str] = []
    for _ in range(90):
        kube.cluster.advance(1)
        status = _pods(kube, "payments")[0].status.container_statuses[0]
        waiting = status.state.waiting
        if (
            waiting
            and waiting.reason == "CrashLoopBackOff"
            and waiting.message.split()[1] not in backoffs
        ):
            backoffs.append(waiting.message.split()[1])
    assert backoffs[:3] == ["10s", "20s", "40s"]
    pod = _pods(kube, "payments")[0]
    status = pod.status.container_statuses[0]
    terminated = status.last_state.terminated
    assert (terminated.reason, terminated.exit_code) == ("OOMKilled", 137)
    assert terminated.container_id.startswith("containerd://")
    assert status.restart_count >= 3
    assert status.ready is False
    assert pod.status.phase == "Running"
    backoff_events = [
        e
        for e in _events(kube)
        if e.reason == "BackOff" and e.involved_object.name == pod.metadata.name
    ]
    assert backoff_events
    assert backoff_events[0].type == "Warning"
    assert backoff_events[0].message.startswith("Back-off restarting failed container app in pod")
    assert backoff_events[0].count >= 2
    deployment = _apps(kube).read_namespaced_deployment("payments", "prod")
    assert not deployment.status.available_replicas
    available = next(c for c in deployment.status.conditions if c.type == "Available")
    assert (available.status, available.reason) == ("False", "MinimumReplicasUnavailable")


def test_previous_log_returns_the_crashed_container_output(kube: KubeSandbox) -> None:
    core = _core(kube)
    healthy = _pods(kube, "checkout")[0].metadata.name
    with pytest.raises(ApiException) as error:
        core.read_namespaced_pod_log(healthy, "prod", previous=True)
    body = json.loads(str(error.value.body))
    assert error.value.status == 400
    assert body["reason"] == "BadRequest"
    assert body["message"] == f'previous terminated container "app" in pod "{healthy}" not found'

    kube.cluster.add_fault(
        Fault(kind="oom", namespace="prod", deployment="payments", after_seconds=30)
    )
    kube.cluster.advance(40)
    pod = _pods(kube, "payments")[0].metadata.name
    previous = core.read_namespaced_pod_log(pod, "prod", previous=True)
    lines = previous.splitlines()
    assert lines[-1] == "fatal error: runtime: out of memory"
    assert any('msg="starting app"' in line for line in lines[:3])
    current = core.read_namespaced_pod_log(pod, "prod", tail_lines=2, container="app")
    assert len(current.splitlines()) == 2
    stamped = core.read_namespaced_pod_log(
        pod, "prod", previous=True, timestamps=True, tail_lines=1
    )
    assert stamped.split(" ", 1)[0].endswith("Z")
    assert stamped.rstrip().endswith("out of memory")
    assert core.read_namespaced_pod_log(pod, "prod", since_seconds=1) != previous


def test_raising_the_memory_limit_past_the_threshold_cures_the_oom(kube: KubeSandbox) -> None:
    kube.cluster.add_fault(
        Fault(
            kind="oom",
            namespace="prod",
            deployment="payments",
            memory_threshold="1Gi",
            after_seconds=5,
        )
    )
    kube.cluster.advance(30)
    assert any(p.status.container_statuses[0].restart_count for p in _pods(kube, "payments"))
    apps = _apps(kube)
    apps.patch_namespaced_deployment(
        "payments",
        "prod",
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "app", "resources": {"limits": {"memory": "1Gi"}}}]
                    }
                }
            }
        },
    )
    assert kube.cluster.settle(300)
    pods = _pods(kube, "payments")
    assert len(pods) == 2
    assert all(p.status.container_statuses[0].restart_count == 0 for p in pods)
    kube.cluster.advance(60)
    assert all(p.status.container_statuses[0].ready for p in _pods(kube, "payments"))


def test_bad_image_goes_errimagepull_then_imagepullbackoff_and_rollback_clears_it(
    kube: KubeSandbox,
) -> None:
    kube.cluster.add_fault(Fault(kind="bad_image", image=BAD_IMAGE))
    apps = _apps(kube)
    apps.patch_namespaced_deployment(
        "checkout",
        "prod",
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": BAD_IMAGE}]}}}},
    )
    kube.cluster.advance(1)
    new_pod = next(p for p in _pods(kube, "checkout") if p.spec.containers[0].image == BAD_IMAGE)
    assert new_pod.status.container_statuses[0].state.waiting.reason == "ErrImagePull"
    kube.cluster.advance(2)
    new_pod = next(p for p in _pods(kube, "checkout") if p.spec.containers[0].image == BAD_IMAGE)
    waiting = new_pod.status.container_statuses[0].state.waiting
    assert waiting.reason == "ImagePullBackOff"
    assert BAD_IMAGE in waiting.message
    assert new_pod.status.phase == "Pending"
    messages = [
        e.message
        for e in _events(kube)
        if e.involved_object.name == new_pod.metadata.name and e.reason == "Failed"
    ]
    assert f'Failed to pull image "{BAD_IMAGE}": rpc error: code = NotFound' in messages[0]
    assert "Error: ImagePullBackOff" in messages
    deployment = apps.read_namespaced_deployment("checkout", "prod")
    assert deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    assert (deployment.status.updated_replicas, deployment.status.available_replicas) == (1, 3)

    _rollback_like_kubectl(apps, "checkout", "prod")
    assert kube.cluster.settle(120)
    pods = _pods(kube, "checkout")
    assert {p.spec.containers[0].image for p in pods} == {
        "registry.example.com/shop/checkout:1.8.2"
    }
    assert all(p.status.container_statuses[0].ready for p in pods)
    replica_sets = {
        rs.spec.template.spec.containers[0].image: rs
        for rs in apps.list_namespaced_replica_set("prod", label_selector="app=checkout").items
    }
    restored = replica_sets["registry.example.com/shop/checkout:1.8.2"]
    assert restored.metadata.annotations["deployment.kubernetes.io/revision"] == "4"
    assert restored.metadata.annotations["deployment.kubernetes.io/revision-history"] == "2"
    assert replica_sets[BAD_IMAGE].spec.replicas == 0
    deployment = apps.read_namespaced_deployment("checkout", "prod")
    assert deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "4"
    progressing = next(c for c in deployment.status.conditions if c.type == "Progressing")
    assert progressing.reason == "NewReplicaSetAvailable"


def _rollback_like_kubectl(apps: Any, name: str, namespace: str) -> None:
    """What `kubectl rollout undo` sends: a JSON patch restoring the previous template."""
    deployment = apps.read_namespaced_deployment(name, namespace)
    owned = [
        rs
        for rs in apps.list_namespaced_replica_set(namespace).items
        if any(
            ref.uid == deployment.metadata.uid and ref.controller
            for ref in rs.metadata.owner_references or []
        )
    ]
    owned.sort(key=lambda rs: int(rs.metadata.annotations["deployment.kubernetes.io/revision"]))
    previous = owned[-2]
    serializer: Any = client.ApiClient()
    template = serializer.sanitize_for_serialization(previous.spec.template)
    template["metadata"]["labels"].pop("pod-template-hash")
    annotations = {
        k: v
        for k, v in deployment.metadata.annotations.items()
        if k == "deployment.kubernetes.io/revision"
    }
    apps.patch_namespaced_deployment(
        name,
        namespace,
        [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ],
    )


def test_readiness_fault_makes_pods_unready_with_unhealthy_events(kube: KubeSandbox) -> None:
    fault = kube.cluster.add_fault(Fault(kind="readiness", namespace="prod", deployment="payments"))
    kube.cluster.advance(25)
    pods = _pods(kube, "payments")
    assert all(not p.status.container_statuses[0].ready for p in pods)
    assert all(p.status.container_statuses[0].state.running for p in pods)
    ready = next(c for c in pods[0].status.conditions if c.type == "Ready")
    assert (ready.status, ready.reason, ready.message) == (
        "False",
        "ContainersNotReady",
        "containers with unready status: [app]",
    )
    unhealthy = [e for e in _events(kube) if e.reason == "Unhealthy"]
    assert unhealthy
    assert unhealthy[0].message == "Readiness probe failed: HTTP probe failed with statuscode: 503"
    assert unhealthy[0].count >= 2
    assert unhealthy[0].involved_object.field_path == "spec.containers{app}"
    deployment = _apps(kube).read_namespaced_deployment("payments", "prod")
    assert not deployment.status.ready_replicas
    assert deployment.status.unavailable_replicas == 2
    kube.cluster.remove_fault(fault.id)
    kube.cluster.advance(2)
    assert all(p.status.container_statuses[0].ready for p in _pods(kube, "payments"))


def test_faults_can_be_managed_over_the_admin_http_api(kube: KubeSandbox) -> None:
    with httpx.Client(base_url=kube.url) as http:
        created = http.post("/sandbox/faults", json={"kind": "bad_image", "image": "x:1"})
        assert created.status_code == 201
        assert created.json()["id"]
        assert http.get("/sandbox/faults").json()["faults"][0]["image"] == "x:1"
        assert http.post("/sandbox/faults", json={"kind": "meteor"}).status_code == 400
        assert http.delete(f"/sandbox/faults/{created.json()['id']}").status_code == 200
        assert http.get("/sandbox/faults").json()["faults"] == []
        before = http.get("/sandbox/clock").json()["now"]
        after = http.post("/sandbox/clock/advance", json={"seconds": 90}).json()["now"]
        assert after > before
        assert http.post("/sandbox/settle", json={"max_seconds": 60}).json()["settled"] is True


def test_crash_fault_exits_with_a_panic_in_the_previous_log(kube: KubeSandbox) -> None:
    kube.cluster.add_fault(
        Fault(kind="crash", namespace="prod", deployment="checkout", after_seconds=4)
    )
    kube.cluster.advance(12)
    pod = _pods(kube, "checkout")[0]
    terminated = pod.status.container_statuses[0].last_state.terminated
    assert (terminated.reason, terminated.exit_code) == ("Error", 2)
    previous = _core(kube).read_namespaced_pod_log(pod.metadata.name, "prod", previous=True)
    assert "panic: runtime error: invalid memory address or nil pointer dereference" in previous
    assert previous.rstrip().endswith("/src/main.go:58 +0x1d4")
