"""ConfigMaps, Secrets and HPAs through the official client: base64, defaults and real errors."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import httpx
import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from sandbox.kube import KubeSandbox, RbacPolicy, RbacRule


def _core(kube: KubeSandbox) -> Any:
    """The typed CoreV1Api, used as Any: every field of its models is Optional."""
    return client.CoreV1Api(kube.api_client())


def _hpas(kube: KubeSandbox) -> Any:
    """The typed AutoscalingV2Api, used as Any."""
    return client.AutoscalingV2Api(kube.api_client())


def _status(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(str(error.body))
    return body


def _hpa(name: str, low: int, high: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout"},
            "minReplicas": low,
            "maxReplicas": high,
        },
    }


def test_a_secret_written_with_string_data_reads_back_as_base64_data_only(
    kube: KubeSandbox,
) -> None:
    core = _core(kube)
    core.create_namespaced_secret(
        "prod",
        {"metadata": {"name": "db"}, "stringData": {"password": "hunter2"}, "data": {}},
    )
    secret = core.read_namespaced_secret("db", "prod")
    assert secret.type == "Opaque"
    assert secret.string_data is None
    assert secret.data == {"password": base64.b64encode(b"hunter2").decode()}


def test_secret_data_that_is_not_base64_is_a_400_like_the_real_decoder(
    kube: KubeSandbox,
) -> None:
    with pytest.raises(ApiException) as error:
        _core(kube).create_namespaced_secret(
            "prod", {"metadata": {"name": "db"}, "data": {"username": "billy"}}
        )
    status = _status(error.value)
    assert error.value.status == 400
    assert status["reason"] == "BadRequest"
    assert status["message"].startswith('Secret in version "v1" cannot be handled as a Secret')
    assert "illegal base64 data at input byte 4" in status["message"]


def test_a_missing_secret_or_config_map_is_a_404_status_naming_it(kube: KubeSandbox) -> None:
    core = _core(kube)
    for read, plural in (
        (core.read_namespaced_secret, "secrets"),
        (core.read_namespaced_config_map, "configmaps"),
    ):
        with pytest.raises(ApiException) as error:
            read("nope", "prod")
        status = _status(error.value)
        assert error.value.status == 404
        assert status["reason"] == "NotFound"
        assert status["message"] == f'{plural} "nope" not found'
        assert status["details"] == {"name": "nope", "kind": plural}


def test_config_keys_are_validated_and_an_immutable_secret_keeps_its_data(
    kube: KubeSandbox,
) -> None:
    core = _core(kube)
    with pytest.raises(ApiException) as bad_key:
        core.create_namespaced_config_map("prod", {"metadata": {"name": "c"}, "data": {"a b": "1"}})
    assert bad_key.value.status == 422
    assert "a valid config key must consist of" in _status(bad_key.value)["message"]
    core.create_namespaced_secret(
        "prod", {"metadata": {"name": "frozen"}, "immutable": True, "stringData": {"k": "v"}}
    )
    with pytest.raises(ApiException) as frozen:
        core.patch_namespaced_secret("frozen", "prod", {"stringData": {"k": "changed"}})
    assert frozen.value.status == 422
    assert "field is immutable when `immutable` is set" in _status(frozen.value)["message"]


def test_config_maps_list_with_a_resource_version_and_watch_from_it(kube: KubeSandbox) -> None:
    core = _core(kube)
    core.create_namespaced_config_map("prod", {"metadata": {"name": "a"}, "data": {"k": "1"}})
    listed = core.list_namespaced_config_map("prod")
    assert [item.metadata.name for item in listed.items] == ["a"]
    seen: list[tuple[str, str, dict[str, str]]] = []

    def write_later() -> None:
        _core(kube).create_namespaced_config_map(
            "prod", {"metadata": {"name": "b"}, "data": {"k": "2"}}
        )

    watcher: Any = watch.Watch()  # type: ignore[no-untyped-call]
    timer = threading.Timer(0.3, write_later)
    timer.start()
    for event in watcher.stream(
        core.list_namespaced_config_map,
        "prod",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=5,
    ):
        seen.append((event["type"], event["object"].metadata.name, event["object"].data))
        watcher.stop()
    timer.join()
    assert seen == [("ADDED", "b", {"k": "2"})]


def test_watching_secrets_from_a_compacted_resource_version_is_410_expired(
    kube: KubeSandbox,
) -> None:
    response = httpx.get(
        kube.url + "/api/v1/namespaces/prod/secrets?watch=true&resourceVersion=5&timeoutSeconds=1",
        timeout=10,
    )
    first: dict[str, Any] = response.json()
    assert first["type"] == "ERROR"
    assert (first["object"]["code"], first["object"]["reason"]) == (410, "Expired")


def test_reading_secrets_outside_the_role_is_403_with_the_real_message(kube: KubeSandbox) -> None:
    kube.cluster.set_rbac(RbacPolicy(rules=[RbacRule.of(["get", "list"], ["configmaps"])]))
    core = _core(kube)
    assert core.list_namespaced_config_map("prod").items == []
    with pytest.raises(ApiException) as error:
        core.list_namespaced_secret("prod")
    status = _status(error.value)
    assert error.value.status == 403
    assert status["message"] == (
        'secrets is forbidden: User "system:serviceaccount:opsbot:opsbot" cannot list '
        'resource "secrets" in API group "" in the namespace "prod"'
    )


def test_an_hpa_gets_v2_defaults_and_max_below_min_is_refused(kube: KubeSandbox) -> None:
    hpas = _hpas(kube)
    hpas.create_namespaced_horizontal_pod_autoscaler(
        "prod", {"metadata": {"name": "checkout"}, "spec": {**_hpa("x", 1, 6)["spec"]}}
    )
    created = hpas.read_namespaced_horizontal_pod_autoscaler("checkout", "prod")
    assert created.spec.min_replicas == 1
    metric = created.spec.metrics[0]
    assert (metric.type, metric.resource.name) == ("Resource", "cpu")
    assert metric.resource.target.average_utilization == 80
    with pytest.raises(ApiException) as error:
        hpas.create_namespaced_horizontal_pod_autoscaler("prod", _hpa("bad", 5, 3))
    assert error.value.status == 422
    assert (
        "spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`"
        in (_status(error.value)["message"])
    )


def test_hpas_are_discoverable_in_autoscaling_v2_and_print_as_kubectl_does(
    kube: KubeSandbox,
) -> None:
    _hpas(kube).create_namespaced_horizontal_pod_autoscaler("prod", _hpa("checkout", 2, 6))
    groups = httpx.get(kube.url + "/apis/autoscaling/v2", timeout=10).json()
    assert "horizontalpodautoscalers" in [r["name"] for r in groups["resources"]]
    table = httpx.get(
        kube.url + "/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers",
        headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
        timeout=10,
    ).json()
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "Reference",
        "Targets",
        "MinPods",
        "MaxPods",
        "Replicas",
        "Age",
    ]
    assert table["rows"][0]["cells"][:5] == [
        "checkout",
        "Deployment/checkout",
        "cpu: <unknown>/80%",
        2,
        6,
    ]
