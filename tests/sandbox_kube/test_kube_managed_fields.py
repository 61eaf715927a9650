"""The Kubernetes stand-in records who last wrote an object and when in
`metadata.managedFields`, as the real API server does: a create and every write that
changes the object stamp the writer's entry (its `fieldManager`, operation Update), a write
that changes nothing stamps nothing, and another writer gets an entry of its own."""

from __future__ import annotations

from datetime import datetime, timedelta

from kubernetes import client

from sandbox.kube import KubeSandbox


def written(config_map: client.V1ConfigMap) -> list[client.V1ManagedFieldsEntry]:
    assert config_map.metadata is not None
    return list(config_map.metadata.managed_fields or [])


def entries(config_map: client.V1ConfigMap) -> dict[str, tuple[str, datetime]]:
    return {str(e.manager): (str(e.operation), e.time) for e in written(config_map) if e.time}


def test_each_write_that_changes_a_configmap_stamps_its_writer_and_time() -> None:
    with KubeSandbox(auto_advance=False) as kube:
        core = client.CoreV1Api(kube.api_client())
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="web"), data={"A": "1"})
        created = core.create_namespaced_config_map("prod", body, field_manager="kubectl-create")
        first = entries(created)["kubectl-create"]
        assert first[0] == "Update"
        kube.cluster.advance(600)
        same = core.patch_namespaced_config_map(
            "web", "prod", {"data": {"A": "1"}}, field_manager="kubectl-create"
        )
        assert entries(same)["kubectl-create"] == first  # nothing changed: nothing stamped
        changed = core.patch_namespaced_config_map(
            "web", "prod", {"data": {"A": "2"}}, field_manager="kubectl-edit"
        )
        stamped = entries(changed)
        assert stamped["kubectl-create"] == first
        assert stamped["kubectl-edit"][0] == "Update"
        assert stamped["kubectl-edit"][1] - first[1] >= timedelta(seconds=600)
        fields = next(e for e in written(changed) if e.manager == "kubectl-edit")
        assert fields.fields_v1 == {"f:data": {"f:A": {}}}


def test_a_create_without_a_field_manager_is_recorded_under_unknown() -> None:
    with KubeSandbox(auto_advance=False) as kube:
        core = client.CoreV1Api(kube.api_client())
        created = core.create_namespaced_config_map(
            "prod", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="web"), data={"A": "1"})
        )
        assert list(entries(created)) == ["unknown"]
