"""The expand_volume operation against the kube stand-in's PersistentVolumeClaims (shop seed):
an expandable class grows, a class without allowVolumeExpansion is refused by admission."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from bot.remediation.cluster_ops import ExpandVolume
from bot.remediation.operation import ActionError
from policies import ActionKind, BlastRadius, ProposedAction
from policies.actions import ResourceKind, ResourceRef
from sandbox.kube import KubeSandbox, read_seed

SHOP_SEED = Path(__file__).parents[2] / "sandbox" / "scenarios" / "shop-cluster.yaml"


@pytest.fixture
def shop() -> Iterator[KubeSandbox]:
    with KubeSandbox(read_seed(SHOP_SEED), auto_advance=False) as sandbox:
        yield sandbox


def expand(namespace: str, name: str, size: str) -> ProposedAction:
    return ProposedAction(
        id="expand-1",
        kind=ActionKind.EXPAND_VOLUME,
        target=ResourceRef(
            kind=ResourceKind.PERSISTENT_VOLUME_CLAIM, namespace=namespace, name=name
        ),
        params={"new_size": size},
        proposer="agent",
        confidence=0.9,
        blast_radius=BlastRadius(pods_affected=0, workload_share=0.0),
    )


def test_expanding_postgres_data_grows_the_claim_once_the_resize_finishes(
    shop: KubeSandbox,
) -> None:
    operation = ExpandVolume(shop.api_client())
    plan = operation.plan(expand("prod", "postgres-data", "100Gi"))
    assert plan.facts == {"size": "50Gi"}
    assert (plan.namespace_labels or {}).get("environment") == "production"
    dry = operation.call(plan, dry_run=True)
    assert dry == "expanded persistentvolumeclaim/prod/postgres-data to 100Gi (dry run)"
    core: Any = client.CoreV1Api(shop.api_client())
    claim = core.read_namespaced_persistent_volume_claim("postgres-data", "prod")
    assert claim.spec.resources.requests == {"storage": "50Gi"}  # the dry run changed nothing
    assert operation.call(plan, dry_run=False).endswith("to 100Gi")
    shop.cluster.advance(12)
    claim = core.read_namespaced_persistent_volume_claim("postgres-data", "prod")
    assert claim.status.capacity == {"storage": "100Gi"}


def test_expanding_a_claim_whose_class_cannot_grow_fails_with_the_admission_message(
    shop: KubeSandbox,
) -> None:
    operation = ExpandVolume(shop.api_client())
    plan = operation.plan(expand("monitoring", "prometheus-data", "200Gi"))
    with pytest.raises(ActionError) as error:
        operation.call(plan, dry_run=True)  # dry runs pass admission too
    assert "HTTP 403" in str(error.value)
    assert "the storageclass that provisions the pvc must support resize" in str(error.value)
