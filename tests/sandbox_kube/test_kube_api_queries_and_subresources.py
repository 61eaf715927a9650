"""API reads and subresources: dry run, selectors, paging, scale, status, eviction."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sandbox.kube import KubeSandbox


def _core(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed CoreV1Api, used as Any: every field of its models is Optional."""
    return client.CoreV1Api(sandbox.api_client(token))


def _deployment(
    name: str, replicas: int = 1, containers: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": containers
                    if containers is not None
                    else [{"name": "app", "image": "demo:1"}]
                },
            },
        },
    }


def test_dry_run_validates_and_answers_but_stores_nothing(
    kube: KubeSandbox, apps: Any, core: Any
) -> None:
    before = kube.cluster.store.resource_version
    created = apps.create_namespaced_deployment("prod", _deployment("dry"), dry_run="All")
    assert created.metadata.name == "dry"
    assert created.spec.strategy.type == "RollingUpdate"
    patched = apps.patch_namespaced_deployment(
        "checkout", "prod", {"spec": {"replicas": 9}}, dry_run="All"
    )
    assert patched.spec.replicas == 9
    current = apps.read_namespaced_deployment("payments", "prod")
    current.spec.replicas = 7
    assert (
        apps.replace_namespaced_deployment("payments", "prod", current, dry_run="All").spec.replicas
        == 7
    )
    apps.delete_namespaced_deployment("orders-db", "prod", dry_run="All")
    core.delete_namespace("staging", dry_run="All")
    with pytest.raises(ApiException) as invalid:
        apps.create_namespaced_deployment("prod", _deployment("dry", replicas=-2), dry_run="All")
    assert invalid.value.status == 422
    assert kube.cluster.store.resource_version == before
    assert apps.read_namespaced_deployment("checkout", "prod").spec.replicas == 3
    assert apps.read_namespaced_deployment("orders-db", "prod").metadata.name == "orders-db"


def test_label_selectors_support_equality_sets_and_existence(shared_kube: KubeSandbox) -> None:
    core = _core(shared_kube)

    def names(selector: str) -> set[str]:
        pods = core.list_pod_for_all_namespaces(label_selector=selector).items
        return {f"{p.metadata.namespace}/{p.metadata.labels['app']}" for p in pods}

    assert names("app=checkout") == {"prod/checkout", "staging/checkout"}
    assert names("app==payments,tier=backend") == {"prod/payments"}
    assert names("app in (orders-db, coredns)") == {"prod/orders-db", "kube-system/coredns"}
    assert names("tier,app notin (checkout)") == {"prod/payments", "prod/orders-db"}
    assert names("!tier,app!=coredns") == {"staging/checkout", "staging/payments"}
    with pytest.raises(ApiException) as error:
        core.list_pod_for_all_namespaces(label_selector="app in (")
    assert error.value.status == 400


def test_field_selectors_filter_pods_and_events(shared_kube: KubeSandbox) -> None:
    core = _core(shared_kube)
    pod = core.list_namespaced_pod("prod", label_selector="app=orders-db").items[0]
    on_node = core.list_pod_for_all_namespaces(
        field_selector=f"spec.nodeName={pod.spec.node_name},status.phase=Running"
    )
    assert pod.metadata.name in {p.metadata.name for p in on_node.items}
    assert all(p.spec.node_name == pod.spec.node_name for p in on_node.items)
    by_name = core.list_namespaced_pod("prod", field_selector=f"metadata.name={pod.metadata.name}")
    assert [p.metadata.name for p in by_name.items] == [pod.metadata.name]
    assert core.list_namespaced_pod("prod", field_selector="status.phase!=Running").items == []
    events = core.list_namespaced_event(
        "prod",
        field_selector=f"involvedObject.kind=Pod,involvedObject.name={pod.metadata.name},involvedObject.uid={pod.metadata.uid}",
    )
    assert {e.reason for e in events.items} >= {
        "Scheduled",
        "Pulling",
        "Pulled",
        "Created",
        "Started",
    }
    with pytest.raises(ApiException) as error:
        core.list_namespaced_pod("prod", field_selector="spec.image=x")
    assert error.value.status == 400
    assert "field label not supported: spec.image" in str(error.value.body)


def test_limit_and_continue_page_through_a_consistent_listing(shared_kube: KubeSandbox) -> None:
    core = _core(shared_kube)
    everything = [p.metadata.name for p in core.list_pod_for_all_namespaces().items]
    seen: list[str] = []
    token = None
    while True:
        page = core.list_pod_for_all_namespaces(limit=4, _continue=token)
        seen += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == len(everything) - len(seen)
    assert seen == everything


def test_scale_subresource_reads_and_writes_replicas(kube: KubeSandbox, apps: Any) -> None:
    scale = apps.read_namespaced_deployment_scale("checkout", "prod")
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (
        3,
        3,
        "app=checkout",
    )
    apps.patch_namespaced_deployment_scale("checkout", "prod", {"spec": {"replicas": 5}})
    kube.cluster.advance(10)
    deployment = apps.read_namespaced_deployment("checkout", "prod")
    assert deployment.spec.replicas == 5
    assert deployment.status.ready_replicas == 5
    scale = apps.read_namespaced_deployment_scale("checkout", "prod")
    scale.spec.replicas = 1
    assert apps.replace_namespaced_deployment_scale("checkout", "prod", scale).spec.replicas == 1
    with pytest.raises(ApiException) as error:
        apps.patch_namespaced_deployment_scale("checkout", "prod", {"spec": {"replicas": -1}})
    assert error.value.status == 422


def test_unknown_fields_are_dropped_with_a_warning_or_refused_when_strict(
    http: httpx.Client,
) -> None:
    body = _deployment("extra")
    body["spec"]["bogus"] = True
    created = http.post("/apis/apps/v1/namespaces/prod/deployments", json=body)
    assert created.status_code == 201
    assert "bogus" not in created.json()["spec"]
    assert 'unknown field \\"spec.bogus\\"' in created.headers["warning"]
    body["metadata"]["name"] = "extra-strict"
    strict = http.post(
        "/apis/apps/v1/namespaces/prod/deployments?fieldValidation=Strict", json=body
    )
    assert strict.status_code == 400
    assert "strict decoding error" in strict.json()["message"]


def test_status_subresource_changes_only_status(kube: KubeSandbox, core: Any) -> None:
    patched = core.patch_namespace_status(
        "staging", {"status": {"phase": "Active"}, "metadata": {"labels": {"ignored": "yes"}}}
    )
    assert "ignored" not in (patched.metadata.labels or {})


def test_pod_eviction_deletes_the_pod_gracefully(kube: KubeSandbox, core: Any) -> None:
    pod = core.list_namespaced_pod("prod", label_selector="app=payments").items[0]
    eviction = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": pod.metadata.name, "namespace": "prod"},
    }
    core.create_namespaced_pod_eviction(pod.metadata.name, "prod", eviction)
    assert (
        core.read_namespaced_pod(pod.metadata.name, "prod").metadata.deletion_timestamp is not None
    )
    kube.cluster.advance(5)
    names = {
        p.metadata.name
        for p in core.list_namespaced_pod("prod", label_selector="app=payments").items
    }
    assert pod.metadata.name not in names
    assert len(names) == 2
