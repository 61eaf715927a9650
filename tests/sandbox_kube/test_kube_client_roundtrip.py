"""Every served type round-trips through the official client's strictly validated models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sandbox.kube import KubeSandbox
from sandbox.kube.schema import schema_problems


def _apps(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed AppsV1Api, used as Any: every field of its models is Optional."""
    return client.AppsV1Api(sandbox.api_client(token))


def _core(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed CoreV1Api, used as Any: every field of its models is Optional."""
    return client.CoreV1Api(sandbox.api_client(token))


@dataclass
class Verbs:
    """One resource type's typed client calls, namespace already bound where it applies."""

    create: Callable[[Any], Any]
    read: Callable[[str], Any]
    list: Callable[[], Any]
    patch: Callable[..., Any]
    replace: Callable[[str, Any], Any]
    delete: Callable[[str], Any]


def _container() -> dict[str, Any]:
    return {
        "name": "app",
        "image": "registry.example.com/demo:1.0",
        "ports": [{"containerPort": 8080}],
    }


def _manifests() -> dict[str, dict[str, Any]]:
    labels = {"app": "roundtrip"}
    template = {"metadata": {"labels": labels}, "spec": {"containers": [_container()]}}
    return {
        "namespaces": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "roundtrip"}},
        "nodes": {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "node-roundtrip"},
            "spec": {"podCIDR": "10.244.9.0/24"},
        },
        "pods": {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "roundtrip", "labels": labels},
            "spec": {"containers": [_container()]},
        },
        "deployments": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "roundtrip", "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": template},
        },
        "replicasets": {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "roundtrip-rs", "labels": {"app": "roundtrip-rs"}},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "roundtrip-rs"}},
                "template": {
                    "metadata": {"labels": {"app": "roundtrip-rs"}},
                    "spec": {"containers": [_container()]},
                },
            },
        },
        "events": {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "roundtrip.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "roundtrip", "namespace": "default"},
            "reason": "Testing",
            "message": "round trip",
            "type": "Normal",
            "count": 1,
            "firstTimestamp": "2025-01-01T00:00:00Z",
            "lastTimestamp": "2025-01-01T00:00:00Z",
            "source": {"component": "tests"},
        },
        "leases": {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "roundtrip"},
            "spec": {
                "holderIdentity": "tests",
                "leaseDurationSeconds": 15,
                "renewTime": "2025-01-01T00:00:00.000000Z",
            },
        },
    }


def _verbs(api: client.ApiClient, plural: str) -> Verbs:
    core: Any = client.CoreV1Api(api)
    apps: Any = client.AppsV1Api(api)
    coordination: Any = client.CoordinationV1Api(api)
    ns = "default"
    table: dict[str, Verbs] = {
        "namespaces": Verbs(
            core.create_namespace,
            core.read_namespace,
            core.list_namespace,
            core.patch_namespace,
            core.replace_namespace,
            core.delete_namespace,
        ),
        "nodes": Verbs(
            core.create_node,
            core.read_node,
            core.list_node,
            core.patch_node,
            core.replace_node,
            core.delete_node,
        ),
        "pods": Verbs(
            lambda b: core.create_namespaced_pod(ns, b),
            lambda n: core.read_namespaced_pod(n, ns),
            core.list_pod_for_all_namespaces,
            lambda n, b, **kw: core.patch_namespaced_pod(n, ns, b, **kw),
            lambda n, b: core.replace_namespaced_pod(n, ns, b),
            lambda n: core.delete_namespaced_pod(n, ns),
        ),
        "events": Verbs(
            lambda b: core.create_namespaced_event(ns, b),
            lambda n: core.read_namespaced_event(n, ns),
            core.list_event_for_all_namespaces,
            lambda n, b, **kw: core.patch_namespaced_event(n, ns, b, **kw),
            lambda n, b: core.replace_namespaced_event(n, ns, b),
            lambda n: core.delete_namespaced_event(n, ns),
        ),
        "deployments": Verbs(
            lambda b: apps.create_namespaced_deployment(ns, b),
            lambda n: apps.read_namespaced_deployment(n, ns),
            apps.list_deployment_for_all_namespaces,
            lambda n, b, **kw: apps.patch_namespaced_deployment(n, ns, b, **kw),
            lambda n, b: apps.replace_namespaced_deployment(n, ns, b),
            lambda n: apps.delete_namespaced_deployment(n, ns),
        ),
        "replicasets": Verbs(
            lambda b: apps.create_namespaced_replica_set(ns, b),
            lambda n: apps.read_namespaced_replica_set(n, ns),
            apps.list_replica_set_for_all_namespaces,
            lambda n, b, **kw: apps.patch_namespaced_replica_set(n, ns, b, **kw),
            lambda n, b: apps.replace_namespaced_replica_set(n, ns, b),
            lambda n: apps.delete_namespaced_replica_set(n, ns),
        ),
        "leases": Verbs(
            lambda b: coordination.create_namespaced_lease(ns, b),
            lambda n: coordination.read_namespaced_lease(n, ns),
            coordination.list_lease_for_all_namespaces,
            lambda n, b, **kw: coordination.patch_namespaced_lease(n, ns, b, **kw),
            lambda n, b: coordination.replace_namespaced_lease(n, ns, b),
            lambda n: coordination.delete_namespaced_lease(n, ns),
        ),
    }
    return table[plural]


PLURALS = ["namespaces", "nodes", "pods", "events", "deployments", "replicasets", "leases"]


@pytest.mark.parametrize("plural", PLURALS)
def test_typed_client_round_trips_create_read_patch_replace_delete(
    kube: KubeSandbox, plural: str
) -> None:
    verbs = _verbs(kube.api_client(), plural)
    manifest = _manifests()[plural]
    name = manifest["metadata"]["name"]
    created = verbs.create(manifest)
    assert created.metadata.uid
    assert created.metadata.resource_version
    assert created.metadata.creation_timestamp
    read = verbs.read(name)
    assert read.metadata.uid == created.metadata.uid

    strategic = verbs.patch(name, {"metadata": {"labels": {"patched": "strategic"}}})
    assert strategic.metadata.labels["patched"] == "strategic"
    merge = verbs.patch(
        name,
        {"metadata": {"labels": {"merge": "yes"}}},
        _content_type="application/merge-patch+json",
    )
    assert merge.metadata.labels["merge"] == "yes"
    json_patch = verbs.patch(
        name, [{"op": "add", "path": "/metadata/annotations", "value": {"json": "patch"}}]
    )
    assert json_patch.metadata.annotations == {"json": "patch"}

    current = verbs.read(name)
    current.metadata.labels["replaced"] = "true"
    replaced = verbs.replace(name, current)
    assert replaced.metadata.labels["replaced"] == "true"
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)

    listed = verbs.list()
    assert any(item.metadata.name == name for item in listed.items)
    verbs.delete(name)
    kube.cluster.advance(5)
    with pytest.raises(ApiException) as missing:
        verbs.read(name)
    assert missing.value.status == 404


def test_list_pods_for_all_namespaces_returns_full_typed_pods(shared_kube: KubeSandbox) -> None:
    pods = _core(shared_kube).list_pod_for_all_namespaces()
    assert type(pods).__name__ == "V1PodList"
    running = [p for p in pods.items if p.metadata.namespace == "prod"]
    assert len(running) == 6
    for pod in running:
        status = pod.status.container_statuses[0]
        assert pod.status.phase == "Running"
        assert pod.spec.node_name
        assert pod.status.pod_ip
        assert pod.status.host_ip
        assert status.ready
        assert status.started
        assert status.state.running.started_at
        assert "@sha256:" in status.image_id
        assert status.container_id.startswith("containerd://")
        assert pod.metadata.owner_references[0].kind == "ReplicaSet"
        assert pod.metadata.labels["pod-template-hash"] in pod.metadata.name


ENDPOINTS = [
    ("/api/v1/pods", "V1PodList"),
    ("/api/v1/nodes", "V1NodeList"),
    ("/api/v1/namespaces", "V1NamespaceList"),
    ("/api/v1/events", "CoreV1EventList"),
    ("/apis/apps/v1/deployments", "V1DeploymentList"),
    ("/apis/apps/v1/replicasets", "V1ReplicaSetList"),
    ("/apis/coordination.k8s.io/v1/leases", "V1LeaseList"),
    ("/apis/apps/v1/namespaces/prod/deployments/checkout/scale", "V1Scale"),
    ("/version", "VersionInfo"),
    ("/api", "V1APIVersions"),
    ("/apis", "V1APIGroupList"),
    ("/api/v1", "V1APIResourceList"),
    ("/apis/apps/v1", "V1APIResourceList"),
    ("/apis/coordination.k8s.io/v1", "V1APIResourceList"),
]


@pytest.mark.parametrize(("path", "model"), ENDPOINTS)
def test_wire_objects_have_no_unknown_or_missing_fields(
    shared_kube: KubeSandbox, path: str, model: str
) -> None:
    body = httpx.get(shared_kube.url + path, timeout=10).json()
    assert schema_problems(body, model) == []


def test_bad_image_and_crash_states_also_match_the_schema(kube: KubeSandbox) -> None:
    from sandbox.kube import Fault

    kube.cluster.add_fault(
        Fault(kind="oom", namespace="prod", deployment="payments", after_seconds=2)
    )
    kube.cluster.add_fault(
        Fault(kind="bad_image", image="registry.example.com/shop/checkout:9.9.9")
    )
    apps = _apps(kube)
    apps.patch_namespaced_deployment(
        "checkout",
        "prod",
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "registry.example.com/shop/checkout:9.9.9"}
                        ]
                    }
                }
            }
        },
    )
    kube.cluster.advance(40)
    body = httpx.get(kube.url + "/api/v1/pods", timeout=10).json()
    assert schema_problems(body, "V1PodList") == []
    reasons = {
        (s.get("state", {}).get("waiting") or {}).get("reason")
        for p in body["items"]
        for s in p["status"].get("containerStatuses", [])
    }
    assert {"CrashLoopBackOff", "ImagePullBackOff"} <= reasons or {
        "CrashLoopBackOff",
        "ErrImagePull",
    } <= reasons
    pods = _core(kube).list_namespaced_pod("prod")
    assert len(pods.items) >= 6
