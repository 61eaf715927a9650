"""k8s_volume_claims and k8s_jobs against the kube stand-in seeded with the shop cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from sandbox.kube import KubeSandbox, read_seed
from tools.base import ErrorKind
from tools.config import KubernetesConfig, ToolsConfig
from tools.k8s.jobs import JobsArgs, JobsData, JobsTool
from tools.k8s.volume_claims import VolumeClaimsArgs, VolumeClaimsData, VolumeClaimsTool
from tools.registry import build_toolbox

SHOP_SEED = Path(__file__).parents[2] / "sandbox" / "scenarios" / "shop-cluster.yaml"
GIB = 1024**3


@pytest.fixture(scope="module")
def shop() -> Iterator[KubeSandbox]:
    with KubeSandbox(read_seed(SHOP_SEED), auto_advance=False) as sandbox:
        yield sandbox


def config(**overrides: object) -> KubernetesConfig:
    return KubernetesConfig(default_namespace="staging", **overrides)


def test_volume_claims_show_size_class_expandability_and_mounting_pods(
    shop: KubeSandbox,
) -> None:
    tool = VolumeClaimsTool(config(), api_client=shop.api_client())
    result = tool.run(VolumeClaimsArgs(all_namespaces=True))
    assert isinstance(result.data, VolumeClaimsData), result.content
    claims = {f"{c.namespace}/{c.name}": c for c in result.data.claims}
    assert next(iter(claims)) == "staging/old-reports-data"  # unattached first
    unattached = claims["staging/old-reports-data"]
    assert unattached.mounted_by == []
    assert unattached.capacity_bytes == 20 * GIB
    postgres = claims["prod/postgres-data"]
    assert postgres.phase == "Bound"
    assert postgres.expandable
    assert postgres.requested_bytes == postgres.capacity_bytes == 50 * GIB
    assert len(postgres.mounted_by) == 1
    assert postgres.mounted_by[0].startswith("postgres-")
    prometheus = claims["monitoring/prometheus-data"]
    assert prometheus.storage_class == "gp2"
    assert not prometheus.expandable
    assert "3 volume claims in all namespaces, 1 unattached:" in result.content
    assert "- staging/old-reports-data Bound 20Gi, class gp3 (expandable), UNATTACHED" in (
        result.content
    )
    assert result.evidence[0].query == "GET /api/v1/persistentvolumeclaims"


def test_volume_claims_report_a_resize_in_progress(shop: KubeSandbox) -> None:
    core = client.CoreV1Api(shop.api_client())
    patch = {"spec": {"resources": {"requests": {"storage": "60Gi"}}}}
    core.patch_namespaced_persistent_volume_claim("postgres-data", "prod", patch)
    tool = VolumeClaimsTool(config(), api_client=shop.api_client())
    result = tool.run(VolumeClaimsArgs(namespace="prod", name="postgres-data"))
    assert isinstance(result.data, VolumeClaimsData)
    (claim,) = result.data.claims
    assert claim.requested_bytes == 60 * GIB
    assert claim.capacity_bytes == 50 * GIB
    assert claim.resizing == "Resizing"
    assert "50Gi (requested 60Gi)" in result.content


def test_only_unattached_claims_in_a_namespace_without_any_is_no_data(
    shop: KubeSandbox,
) -> None:
    tool = VolumeClaimsTool(config(), api_client=shop.api_client())
    result = tool.run(VolumeClaimsArgs(namespace="monitoring", only_unattached=True))
    assert result.no_data
    assert result.content == "No data: no unattached volume claims in monitoring."


def test_jobs_put_the_failed_one_first_with_its_reason_and_age(shop: KubeSandbox) -> None:
    tool = JobsTool(config(), api_client=shop.api_client(), clock=shop.cluster.now)
    result = tool.run(JobsArgs())
    assert isinstance(result.data, JobsData), result.content
    failed, complete = result.data.jobs
    assert (failed.name, failed.status, failed.reason) == (
        "nightly-export-28",
        "Failed",
        "BackoffLimitExceeded",
    )
    assert failed.failed == 3
    assert failed.age_hours == 72.0
    assert (complete.name, complete.status, complete.succeeded) == (
        "nightly-export-29",
        "Complete",
        1,
    )
    assert complete.age_hours == 48.0
    assert result.content.splitlines()[0] == "2 jobs in staging, 1 failed:"
    only = tool.run(JobsArgs(only_failed=True))
    assert isinstance(only.data, JobsData)
    assert [j.name for j in only.data.jobs] == ["nightly-export-28"]


def test_jobs_outside_the_allowed_namespaces_are_refused(shop: KubeSandbox) -> None:
    tool = JobsTool(config(allowed_namespaces=["prod"]), api_client=shop.api_client())
    result = tool.run(JobsArgs(namespace="staging"))
    assert result.error_kind is ErrorKind.INVALID_INPUT


def test_the_toolbox_offers_both_tools_when_kubernetes_is_configured(shop: KubeSandbox) -> None:
    tools = ToolsConfig(kubernetes=config(api_url=shop.url))
    toolbox = build_toolbox(tools, kube_api_client=shop.api_client(), clock=shop.cluster.now)
    result = toolbox.run("k8s_jobs", {"only_failed": True})
    assert result.ok, result.content
    assert "nightly-export-28 Failed" in result.content
    assert "k8s_volume_claims" in toolbox.names()
    toolbox.close()
