"""The RBAC switch answers 403 Forbidden Status objects worded like the real authorizer."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sandbox.kube import Identity, KubeSandbox, RbacPolicy, RbacRule

READ_ONLY = [
    RbacRule.of(
        ["get", "list", "watch"], ["pods", "pods/log", "deployments", "replicasets", "events"]
    )
]


def _apps(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed AppsV1Api, used as Any: every field of its models is Optional."""
    return client.AppsV1Api(sandbox.api_client(token))


def _core(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed CoreV1Api, used as Any: every field of its models is Optional."""
    return client.CoreV1Api(sandbox.api_client(token))


def test_a_verb_outside_the_role_is_403_with_the_real_message(kube: KubeSandbox) -> None:
    kube.cluster.set_rbac(RbacPolicy(rules=READ_ONLY))
    apps = _apps(kube)
    assert apps.read_namespaced_deployment("checkout", "prod").metadata.name == "checkout"
    with pytest.raises(ApiException) as error:
        apps.patch_namespaced_deployment("checkout", "prod", {"spec": {"replicas": 1}})
    status = json.loads(str(error.value.body))
    assert error.value.status == 403
    assert status["reason"] == "Forbidden"
    assert status["code"] == 403
    assert status["message"] == (
        'deployments.apps "checkout" is forbidden: '
        'User "system:serviceaccount:opsbot:opsbot" cannot patch '
        'resource "deployments" in API group "apps" in the namespace "prod"'
    )
    assert status["details"] == {"name": "checkout", "group": "apps", "kind": "deployments"}


def test_cluster_scoped_and_collection_requests_name_the_scope(kube: KubeSandbox) -> None:
    kube.cluster.set_rbac(RbacPolicy(rules=READ_ONLY))
    core = _core(kube)
    with pytest.raises(ApiException) as error:
        core.list_node()
    assert json.loads(str(error.value.body))["message"] == (
        'nodes is forbidden: User "system:serviceaccount:opsbot:opsbot" '
        'cannot list resource "nodes" '
        'in API group "" at the cluster scope'
    )
    assert core.list_pod_for_all_namespaces().items


def test_subresources_are_authorized_separately(kube: KubeSandbox) -> None:
    kube.cluster.set_rbac(RbacPolicy(rules=[RbacRule.of(["get", "list"], ["pods"])]))
    core = _core(kube)
    pod = core.list_namespaced_pod("prod").items[0].metadata.name
    with pytest.raises(ApiException) as error:
        core.read_namespaced_pod_log(pod, "prod")
    assert (
        'cannot get resource "pods/log" in API group ""'
        in json.loads(str(error.value.body))["message"]
    )


def test_rules_can_differ_per_bearer_token_and_unknown_tokens_are_401(kube: KubeSandbox) -> None:
    admin = Identity("admin", None)
    viewer = Identity("viewer", [RbacRule.of(["get", "list"], ["*"], namespaces=["staging"])])
    kube.cluster.set_rbac(
        RbacPolicy(rules=[], tokens={"admin-token": admin, "viewer-token": viewer})
    )
    as_admin = _apps(kube, token="admin-token")
    assert as_admin.patch_namespaced_deployment(
        "checkout", "prod", {"metadata": {"labels": {"ok": "1"}}}
    )
    as_viewer = _apps(kube, token="viewer-token")
    assert as_viewer.list_namespaced_deployment("staging").items
    with pytest.raises(ApiException) as error:
        as_viewer.list_namespaced_deployment("prod")
    assert (
        'User "viewer" cannot list resource "deployments"'
        in json.loads(str(error.value.body))["message"]
    )
    with pytest.raises(ApiException) as unknown:
        _apps(kube, token="stolen").list_namespaced_deployment("prod")
    assert unknown.value.status == 401


def test_rbac_can_be_switched_over_the_admin_api(kube: KubeSandbox) -> None:
    with httpx.Client(base_url=kube.url) as http:
        http.put("/sandbox/rbac", json={"rules": [{"verbs": ["get"], "resources": ["namespaces"]}]})
        assert http.get("/api/v1/namespaces").status_code == 403
        assert http.get("/api/v1/namespaces/prod").status_code == 200
        http.delete("/sandbox/rbac")
        assert http.get("/api/v1/namespaces").status_code == 200
