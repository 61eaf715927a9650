"""PersistentVolumeClaims, PersistentVolumes, StorageClasses and Jobs in the kube stand-in,
through the official client and kubectl, on the shop cluster's seed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from sandbox.kube import KubeSandbox, read_seed
from sandbox.kube.schema import schema_problems

SHOP_SEED = Path(__file__).parents[2] / "sandbox" / "scenarios" / "shop-cluster.yaml"
KUBECTL = shutil.which("kubectl")
RESIZE_REFUSED = (
    'persistentvolumeclaims "prometheus-data" is forbidden: only dynamically provisioned pvc '
    "can be resized and the storageclass that provisions the pvc must support resize"
)


@pytest.fixture(scope="module")
def shop_server() -> Iterator[KubeSandbox]:
    with KubeSandbox(read_seed(SHOP_SEED), auto_advance=False) as sandbox:
        yield sandbox


@pytest.fixture
def shop(shop_server: KubeSandbox) -> KubeSandbox:
    """A freshly seeded shop cluster; time moves only through `cluster.advance`."""
    shop_server.reset(read_seed(SHOP_SEED))
    return shop_server


def _core(kube: KubeSandbox) -> Any:
    return client.CoreV1Api(kube.api_client())


def _batch(kube: KubeSandbox) -> Any:
    return client.BatchV1Api(kube.api_client())


def _status(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(str(error.body))
    return body


def _grow(core: Any, name: str, namespace: str, size: str) -> Any:
    patch = {"spec": {"resources": {"requests": {"storage": size}}}}
    return core.patch_namespaced_persistent_volume_claim(name, namespace, patch)


def test_discovery_serves_claims_volumes_storage_classes_and_jobs(shop: KubeSandbox) -> None:
    with httpx.Client(base_url=shop.url, timeout=10) as http:
        core = {r["name"]: r for r in http.get("/api/v1").json()["resources"]}
        storage = http.get("/apis/storage.k8s.io/v1").json()
        batch = http.get("/apis/batch/v1").json()
        groups = [g["name"] for g in http.get("/apis").json()["groups"]]
    assert core["persistentvolumeclaims"]["namespaced"] is True
    assert core["persistentvolumeclaims"]["shortNames"] == ["pvc"]
    assert core["persistentvolumeclaims/status"]["verbs"] == ["get", "patch", "update"]
    assert core["persistentvolumes"]["namespaced"] is False
    assert [r["name"] for r in storage["resources"]] == ["storageclasses"]
    assert [r["name"] for r in batch["resources"]] == ["jobs", "jobs/status"]
    assert {"batch", "storage.k8s.io"} <= set(groups)
    for path, model in (
        ("/api/v1/persistentvolumeclaims", "V1PersistentVolumeClaimList"),
        ("/api/v1/persistentvolumes", "V1PersistentVolumeList"),
        ("/apis/storage.k8s.io/v1/storageclasses", "V1StorageClassList"),
        ("/apis/batch/v1/jobs", "V1JobList"),
        ("/apis/batch/v1", "V1APIResourceList"),
    ):
        assert schema_problems(httpx.get(shop.url + path, timeout=10).json(), model) == []


def test_seeded_claims_are_bound_to_provisioned_volumes(shop: KubeSandbox) -> None:
    core = _core(shop)
    claims = {
        f"{c.metadata.namespace}/{c.metadata.name}": c
        for c in core.list_persistent_volume_claim_for_all_namespaces().items
    }
    assert set(claims) == {
        "prod/postgres-data",
        "monitoring/prometheus-data",
        "staging/old-reports-data",
    }
    postgres = claims["prod/postgres-data"]
    assert postgres.status.phase == "Bound"
    assert postgres.status.capacity == {"storage": "50Gi"}
    assert postgres.spec.storage_class_name == "gp3"
    assert postgres.metadata.finalizers == ["kubernetes.io/pvc-protection"]
    assert postgres.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == (
        "ebs.csi.aws.com"
    )
    volume = core.read_persistent_volume(postgres.spec.volume_name)
    assert volume.metadata.name == f"pvc-{postgres.metadata.uid}"
    assert volume.status.phase == "Bound"
    assert volume.spec.claim_ref.name == "postgres-data"
    assert volume.spec.claim_ref.uid == postgres.metadata.uid
    assert volume.spec.capacity == {"storage": "50Gi"}
    assert volume.spec.csi.driver == "ebs.csi.aws.com"
    assert volume.spec.persistent_volume_reclaim_policy == "Delete"
    storage: Any = client.StorageV1Api(shop.api_client())
    classes = storage.list_storage_class().items
    assert {(c.metadata.name, c.allow_volume_expansion) for c in classes} == {
        ("gp2", None),
        ("gp3", True),
    }


def test_seeded_jobs_keep_their_history_and_status(shop: KubeSandbox) -> None:
    jobs = {j.metadata.name: j for j in _batch(shop).list_namespaced_job("staging").items}
    failed, complete = jobs["nightly-export-28"], jobs["nightly-export-29"]
    assert [c.type for c in failed.status.conditions] == ["FailureTarget", "Failed"]
    assert failed.status.failed == 3
    assert failed.status.completion_time is None
    now = shop.cluster.now()
    failed_at = failed.status.conditions[-1].last_transition_time
    assert round((now - failed_at).total_seconds() / 3600) == 72
    assert complete.status.succeeded == 1
    assert complete.status.conditions[-1].type == "Complete"
    assert complete.status.completion_time > complete.status.start_time
    selector = failed.spec.selector.match_labels
    assert selector == {"batch.kubernetes.io/controller-uid": failed.metadata.uid}
    labels = failed.spec.template.metadata.labels
    assert labels["job-name"] == "nightly-export-28"
    assert failed.spec.backoff_limit == 2
    assert failed.spec.completions == 1


def test_growing_a_mounted_claim_resizes_the_volume_then_the_filesystem(
    shop: KubeSandbox,
) -> None:
    core = _core(shop)
    answered = _grow(core, "postgres-data", "prod", "100Gi")
    assert answered.spec.resources.requests == {"storage": "100Gi"}
    claim = core.read_namespaced_persistent_volume_claim("postgres-data", "prod")
    assert claim.status.capacity == {"storage": "50Gi"}
    assert claim.status.allocated_resources == {"storage": "100Gi"}
    assert [c.type for c in claim.status.conditions] == ["Resizing"]
    shop.cluster.advance(6)
    claim = core.read_namespaced_persistent_volume_claim("postgres-data", "prod")
    assert [c.type for c in claim.status.conditions] == ["FileSystemResizePending"]
    assert claim.status.capacity == {"storage": "50Gi"}
    assert core.read_persistent_volume(claim.spec.volume_name).spec.capacity == {"storage": "100Gi"}
    shop.cluster.advance(6)
    claim = core.read_namespaced_persistent_volume_claim("postgres-data", "prod")
    assert claim.status.capacity == {"storage": "100Gi"}
    assert claim.status.conditions is None
    reasons = {e.reason for e in core.list_namespaced_event("prod").items}
    assert {"Resizing", "FileSystemResizeRequired", "FileSystemResizeSuccessful"} <= reasons


def test_a_claim_no_pod_mounts_waits_for_a_pod_to_finish_the_resize(shop: KubeSandbox) -> None:
    core = _core(shop)
    _grow(core, "old-reports-data", "staging", "30Gi")
    shop.cluster.advance(30)
    claim = core.read_namespaced_persistent_volume_claim("old-reports-data", "staging")
    assert claim.status.capacity == {"storage": "20Gi"}
    pending = claim.status.conditions[0]
    assert pending.type == "FileSystemResizePending"
    assert pending.message == (
        "Waiting for user to (re-)start a pod to finish file system resize of volume on node."
    )


def test_growing_a_claim_whose_class_cannot_expand_is_forbidden(shop: KubeSandbox) -> None:
    with pytest.raises(ApiException) as error:
        _grow(_core(shop), "prometheus-data", "monitoring", "200Gi")
    assert error.value.status == 403
    assert _status(error.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": RESIZE_REFUSED,
        "reason": "Forbidden",
        "details": {"name": "prometheus-data", "kind": "persistentvolumeclaims"},
        "code": 403,
    }


def test_shrinking_a_claim_is_invalid(shop: KubeSandbox) -> None:
    with pytest.raises(ApiException) as error:
        _grow(_core(shop), "postgres-data", "prod", "40Gi")
    status = _status(error.value)
    assert error.value.status == 422
    assert status["message"] == (
        'PersistentVolumeClaim "postgres-data" is invalid: spec.resources.requests.storage: '
        "Forbidden: field can not be less than status.capacity"
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueForbidden",
            "message": "Forbidden: field can not be less than status.capacity",
            "field": "spec.resources.requests.storage",
        }
    ]


def test_changing_a_claims_class_is_refused_as_immutable(shop: KubeSandbox) -> None:
    patch = {"spec": {"storageClassName": "gp2"}}
    with pytest.raises(ApiException) as error:
        _core(shop).patch_namespaced_persistent_volume_claim("postgres-data", "prod", patch)
    assert error.value.status == 422
    assert "spec: Forbidden: spec is immutable after creation" in _status(error.value)["message"]


def test_new_claims_get_the_default_class_and_are_validated(shop: KubeSandbox) -> None:
    core = _core(shop)
    body = {
        "metadata": {"name": "scratch"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
    }
    created = core.create_namespaced_persistent_volume_claim("staging", body)
    assert created.spec.storage_class_name == "gp3"
    assert created.status.phase == "Pending"  # what the POST answered, before the binder ran
    bound = core.read_namespaced_persistent_volume_claim("scratch", "staging")
    assert bound.status.phase == "Bound"
    assert bound.status.capacity == {"storage": "5Gi"}
    with pytest.raises(ApiException) as duplicate:
        core.create_namespaced_persistent_volume_claim("staging", body)
    assert duplicate.value.status == 409
    assert _status(duplicate.value)["reason"] == "AlreadyExists"
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_persistent_volume_claim(
            "staging", {"metadata": {"name": "broken"}, "spec": {"resources": {}}}
        )
    assert invalid.value.status == 422
    assert _status(invalid.value)["message"] == (
        'PersistentVolumeClaim "broken" is invalid: [spec.accessModes: Required value: at least '
        "1 access mode is required, spec.resources[storage]: Required value]"
    )
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_persistent_volume_claim("nope", "staging")
    assert missing.value.status == 404
    assert _status(missing.value)["message"] == 'persistentvolumeclaims "nope" not found'


def test_an_unattached_claim_is_deleted_at_once_and_its_volume_follows(
    shop: KubeSandbox,
) -> None:
    core = _core(shop)
    claim = core.read_namespaced_persistent_volume_claim("old-reports-data", "staging")
    core.delete_namespaced_persistent_volume_claim("old-reports-data", "staging")
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_persistent_volume_claim("old-reports-data", "staging")
    assert gone.value.status == 404
    with pytest.raises(ApiException) as volume_gone:
        core.read_persistent_volume(claim.spec.volume_name)
    assert volume_gone.value.status == 404


def test_a_mounted_claim_stays_terminating_until_its_pod_is_gone(shop: KubeSandbox) -> None:
    core = _core(shop)
    core.delete_namespaced_persistent_volume_claim("postgres-data", "prod")
    claim = core.read_namespaced_persistent_volume_claim("postgres-data", "prod")
    assert claim.metadata.deletion_timestamp is not None
    assert claim.metadata.finalizers == ["kubernetes.io/pvc-protection"]
    apps = client.AppsV1Api(shop.api_client())
    apps.patch_namespaced_deployment_scale("postgres", "prod", {"spec": {"replicas": 0}})
    shop.cluster.settle()
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_persistent_volume_claim("postgres-data", "prod")
    assert gone.value.status == 404


def test_jobs_are_validated_patched_watched_and_deleted(shop: KubeSandbox) -> None:
    batch = _batch(shop)
    job = {
        "metadata": {"name": "backfill"},
        "spec": {"template": {"spec": {"containers": [{"name": "run", "image": "tool:1"}]}}},
    }
    with pytest.raises(ApiException) as invalid:
        batch.create_namespaced_job("staging", job)
    assert invalid.value.status == 422
    assert _status(invalid.value)["message"] == (
        'Job.batch "backfill" is invalid: spec.template.spec.restartPolicy: Unsupported value: '
        '"Always": supported values: "OnFailure", "Never"'
    )
    job["spec"]["template"]["spec"]["restartPolicy"] = "Never"  # type: ignore[index]
    created = batch.create_namespaced_job("staging", job)
    listed = batch.list_namespaced_job("staging")
    assert "backfill" in [j.metadata.name for j in listed.items]
    status = {"status": {"startTime": "2025-01-01T00:00:00Z", "active": 1}}
    patched = batch.patch_namespaced_job_status("backfill", "staging", status)
    assert patched.status.active == 1
    with pytest.raises(ApiException) as immutable:
        batch.patch_namespaced_job("backfill", "staging", {"spec": {"completions": 3}})
    assert immutable.value.status == 422
    seen = [
        (event["type"], event["object"].metadata.name)
        for event in watch.Watch().stream(  # type: ignore[no-untyped-call]
            batch.list_namespaced_job,
            "staging",
            resource_version=created.metadata.resource_version,
            timeout_seconds=1,
        )
    ]
    assert ("MODIFIED", "backfill") in seen
    batch.delete_namespaced_job("nightly-export-28", "staging")
    with pytest.raises(ApiException) as gone:
        batch.read_namespaced_job("nightly-export-28", "staging")
    assert gone.value.status == 404
    assert _status(gone.value)["message"] == 'jobs.batch "nightly-export-28" not found'


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_prints_claims_volumes_classes_and_jobs_and_expands_a_claim(
    shop: KubeSandbox, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "KUBECONFIG": str(shop.write_kubeconfig(tmp_path / "config")),
        "KUBECACHEDIR": str(tmp_path / "cache"),
    }

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KUBECTL), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    claims = kubectl("get", "pvc", "-A").stdout.splitlines()
    assert claims[0].split()[:5] == ["NAMESPACE", "NAME", "STATUS", "VOLUME", "CAPACITY"]
    rows = {tuple(line.split()[:2]): line.split() for line in claims[1:]}
    assert rows[("prod", "postgres-data")][2:7:2] == ["Bound", "50Gi", "gp3"]
    assert "pvc-" in rows[("prod", "postgres-data")][3]
    classes = kubectl("get", "storageclass").stdout
    assert "gp3 (default)   ebs.csi.aws.com" in classes
    volumes = kubectl("get", "pv").stdout
    assert "monitoring/prometheus-data" in volumes
    jobs = kubectl("get", "jobs", "-n", "staging").stdout.splitlines()
    assert jobs[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    job_rows = {line.split()[0]: line.split() for line in jobs[1:]}
    assert job_rows["nightly-export-28"][1:3] == ["Failed", "0/1"]
    assert job_rows["nightly-export-29"][1:4] == ["Complete", "1/1", "60m"]
    patch = '{"spec":{"resources":{"requests":{"storage":"80Gi"}}}}'
    grown = kubectl("patch", "pvc", "postgres-data", "-n", "prod", "-p", patch)
    assert grown.returncode == 0, grown.stderr
    bigger = patch.replace("80Gi", "150Gi")
    refused = kubectl("patch", "pvc", "prometheus-data", "-n", "monitoring", "-p", bigger)
    assert refused.returncode != 0
    assert "must support resize" in refused.stderr
    deleted = kubectl("delete", "job", "nightly-export-28", "-n", "staging")
    assert deleted.stdout.strip() == 'job.batch "nightly-export-28" deleted'
