"""API errors and writes: conflicts, validation, Status bodies, the three patch types."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from kubernetes.client.exceptions import ApiException


def _status(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(str(error.body))
    return body


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


def test_replace_with_a_stale_resource_version_is_a_409_conflict(apps: Any) -> None:
    first = apps.read_namespaced_deployment("checkout", "prod")
    stale = apps.read_namespaced_deployment("checkout", "prod")
    first.spec.replicas = 4
    apps.replace_namespaced_deployment("checkout", "prod", first)
    stale.spec.replicas = 5
    with pytest.raises(ApiException) as error:
        apps.replace_namespaced_deployment("checkout", "prod", stale)
    status = _status(error.value)
    assert error.value.status == 409
    assert status["kind"] == "Status"
    assert status["status"] == "Failure"
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on deployments.apps "checkout": '
        "the object has been modified; "
        "please apply your changes to the latest version and try again"
    )
    assert status["details"] == {"name": "checkout", "group": "apps", "kind": "deployments"}


def test_patch_that_names_a_stale_resource_version_conflicts_too(core: Any) -> None:
    with pytest.raises(ApiException) as error:
        core.patch_namespace("prod", {"metadata": {"resourceVersion": "1", "labels": {"x": "y"}}})
    assert error.value.status == 409


def test_creating_an_existing_object_is_409_already_exists(apps: Any) -> None:
    with pytest.raises(ApiException) as error:
        apps.create_namespaced_deployment("prod", _deployment("checkout"))
    status = _status(error.value)
    assert (error.value.status, status["reason"]) == (409, "AlreadyExists")
    assert status["message"] == 'deployments.apps "checkout" already exists'


def test_missing_objects_are_404_not_found_with_details(core: Any) -> None:
    with pytest.raises(ApiException) as error:
        core.read_namespaced_pod("nope", "prod")
    status = _status(error.value)
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "pods"},
        "code": 404,
    }


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (_deployment("Bad_Name"), "metadata.name", "FieldValueInvalid"),
        (_deployment("negative", replicas=-1), "spec.replicas", "FieldValueInvalid"),
        (
            _deployment("empty", containers=[]),
            "spec.template.spec.containers",
            "FieldValueRequired",
        ),
    ],
)
def test_invalid_objects_are_422_with_field_causes(
    apps: Any, body: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ApiException) as error:
        apps.create_namespaced_deployment("prod", body)
    status = _status(error.value)
    assert (error.value.status, status["reason"], status["code"]) == (422, "Invalid", 422)
    assert status["message"].startswith(
        f'Deployment.apps "{body["metadata"]["name"]}" is invalid: {field}'
    )
    assert {"field": field, "reason": reason} in [
        {"field": c["field"], "reason": c["reason"]} for c in status["details"]["causes"]
    ]
    assert status["details"]["kind"] == "Deployment"
    assert status["details"]["group"] == "apps"


def test_negative_replicas_message_reads_like_the_real_server(apps: Any) -> None:
    with pytest.raises(ApiException) as error:
        apps.create_namespaced_deployment("prod", _deployment("negative", replicas=-1))
    assert _status(error.value)["message"] == (
        'Deployment.apps "negative" is invalid: spec.replicas: Invalid value: -1: '
        "must be greater than or equal to 0"
    )


def test_malformed_bodies_and_patches_are_400_bad_request(http: httpx.Client) -> None:
    broken = http.post(
        "/apis/apps/v1/namespaces/prod/deployments",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["reason"] == "BadRequest"
    patch = http.patch(
        "/apis/apps/v1/namespaces/prod/deployments/checkout",
        content=b'[{"op": "jump"}]',
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert patch.status_code == 400
    assert patch.json()["reason"] == "BadRequest"
    wrong_type = http.patch(
        "/apis/apps/v1/namespaces/prod/deployments/checkout",
        content=b'{"spec": {"replicas": "three"}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert wrong_type.status_code == 400
    unsupported = http.patch(
        "/api/v1/namespaces/prod", content=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert unsupported.status_code == 415
    assert unsupported.json()["reason"] == "UnsupportedMediaType"


def test_wrong_methods_are_405_and_unknown_paths_404(http: httpx.Client) -> None:
    assert (
        http.put("/api/v1/namespaces/prod/pods", content=b"{}").json()["reason"]
        == "MethodNotAllowed"
    )
    unknown = http.get("/apis/apps/v1/namespaces/prod/statefulsets")
    assert unknown.status_code == 404
    assert unknown.json()["kind"] == "Status"


def test_json_patch_supports_add_remove_replace_test_move_copy(apps: Any) -> None:
    patched = apps.patch_namespaced_deployment(
        "payments",
        "prod",
        [
            {"op": "test", "path": "/spec/replicas", "value": 2},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "add", "path": "/metadata/labels/team", "value": "billing"},
            {"op": "copy", "from": "/metadata/labels/team", "path": "/metadata/labels/owner"},
            {"op": "move", "from": "/metadata/labels/owner", "path": "/metadata/labels/on-call"},
            {"op": "remove", "path": "/metadata/labels/tier"},
        ],
    )
    assert patched.spec.replicas == 3
    assert patched.metadata.labels == {"app": "payments", "team": "billing", "on-call": "billing"}
    with pytest.raises(ApiException) as failed:
        apps.patch_namespaced_deployment(
            "payments", "prod", [{"op": "test", "path": "/spec/replicas", "value": 99}]
        )
    assert failed.value.status == 422


def test_strategic_merge_patch_merges_containers_and_env_by_name(apps: Any) -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "env": [
                                {"name": "LOG_LEVEL", "value": "debug"},
                                {"name": "NEW", "value": "1"},
                            ],
                        },
                        {"name": "sidecar", "image": "envoy:1.30"},
                    ]
                }
            }
        }
    }
    patched = apps.patch_namespaced_deployment("checkout", "prod", patch)
    containers = {c.name: c for c in patched.spec.template.spec.containers}
    assert containers["app"].image == "registry.example.com/shop/checkout:1.8.2"
    env = {e.name: e.value for e in containers["app"].env}
    assert env == {
        "LOG_LEVEL": "debug",
        "PAYMENTS_URL": "http://payments.prod.svc:8080",
        "NEW": "1",
    }
    assert containers["sidecar"].image == "envoy:1.30"
    removed = apps.patch_namespaced_deployment(
        "checkout",
        "prod",
        {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}},
    )
    assert [c.name for c in removed.spec.template.spec.containers] == ["app"]


def test_merge_patch_replaces_lists_wholesale(apps: Any) -> None:
    patched = apps.patch_namespaced_deployment(
        "checkout",
        "prod",
        {"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x:1"}]}}}},
        _content_type="application/merge-patch+json",
    )
    assert [(c.name, c.image) for c in patched.spec.template.spec.containers] == [("only", "x:1")]
