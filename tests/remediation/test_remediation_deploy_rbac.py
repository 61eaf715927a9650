"""deploy/: the manifests parse and agree with the code; the remediation ClusterRole grants
exactly the verbs the catalog uses, and the catalog works under it (and not without it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from bot.remediation.catalog import Catalog, required_permissions
from bot.remediation.operation import ActionError
from bot.settings import GROUPS, env_name
from policies import ProposedAction
from sandbox.kube import Identity, KubeSandbox, RbacPolicy, RbacRule
from tests.remediation.conftest import deployment, proposal

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TOKEN = "opsbot-service-account-token"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def by_kind(kind: str, name: str) -> dict[str, Any]:
    for path in DEPLOY.glob("*.yaml"):
        for doc in documents(path):
            if doc["kind"] == kind and doc["metadata"]["name"] == name:
                return doc
    raise LookupError(f"{kind}/{name}")


def role_rules(name: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = by_kind("ClusterRole", name)["rules"]
    return rules


def test_every_manifest_and_chaos_experiment_parses_with_kind_and_name() -> None:
    files = sorted(DEPLOY.glob("*.yaml")) + sorted((DEPLOY / "chaos").glob("*.yaml"))
    assert len(files) >= 15
    for path in files:
        for doc in documents(path):
            assert doc.get("apiVersion"), path
            assert doc.get("kind"), path
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], path
    kinds = {documents(p)[0]["kind"] for p in (DEPLOY / "chaos").glob("*.yaml")}
    assert kinds == {"PodChaos", "Schedule", "NetworkChaos", "StressChaos", "DNSChaos"}
    listed = set(documents(DEPLOY / "kustomization.yaml")[0]["resources"])
    assert listed == {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}


def test_the_deployment_probes_the_health_endpoints_and_runs_as_the_service_account() -> None:
    spec = by_kind("Deployment", "opsbot")["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert spec["serviceAccountName"] == by_kind("ServiceAccount", "opsbot")["metadata"]["name"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_secret_and_config_keys_are_settings_opsbot_reads() -> None:
    known = {env_name(group, field) for group in GROUPS.values() for field in group.model_fields}
    secret = set(by_kind("Secret", "opsbot")["stringData"])
    config = set(by_kind("ConfigMap", "opsbot")["data"]) - {"site.yaml"}
    assert secret | config <= known
    assert {"SLACK_BOT_TOKEN", "OPSBOT_DATABASE_URL"} <= secret


def test_the_remediation_role_grants_exactly_the_catalog_verbs() -> None:
    granted = {
        (group, resource): tuple(sorted(rule["verbs"]))
        for rule in role_rules("opsbot-remediate")
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    needed = {(p.group, p.resource): p.verbs for p in required_permissions()}
    assert granted == needed
    read_verbs = {v for rule in role_rules("opsbot-read") for v in rule["verbs"]}
    assert read_verbs <= {"get", "list", "watch"}


def sandbox_rules(*roles: str) -> list[RbacRule]:
    return [
        RbacRule.of(rule["verbs"], rule["resources"], rule["apiGroups"])
        for role in roles
        for rule in role_rules(role)
    ]


def as_service_account(kube: KubeSandbox, *roles: str) -> Catalog:
    kube.cluster.set_rbac(
        RbacPolicy(
            rules=[],
            tokens={TOKEN: Identity("system:serviceaccount:opsbot:opsbot", sandbox_rules(*roles))},
        )
    )
    return Catalog(kube.api_client(TOKEN), {})


def actions() -> list[ProposedAction]:
    node = {"kind": "node", "name": "node-3"}
    return [
        proposal("restart_deployment", deployment("payments")),
        proposal("scale_deployment", deployment("payments"), {"replicas": 3}),
        proposal("rollback_deployment", deployment()),
        proposal("pause_rollout", deployment("payments")),
        proposal("resume_rollout", deployment("payments")),
        proposal("cordon_node", node),
        proposal("uncordon_node", node),
    ]


def delete_a_payments_pod(kube: KubeSandbox) -> ProposedAction:
    """Named when it runs (the restart and scale before it replace payments' pods), read
    from the stand-in's own store: the service account under test may not list pods."""
    with kube.cluster.lock:
        pods = [
            p["metadata"]["name"]
            for p in kube.cluster.store.items("pods", "prod")
            if p["metadata"].get("labels", {}).get("app") == "payments"
            and not p["metadata"].get("deletionTimestamp")
        ]
    pod = pods[0]
    return proposal("delete_pod", {"kind": "pod", "namespace": "prod", "name": pod})


def test_every_catalog_action_runs_with_the_manifest_roles(kube: KubeSandbox) -> None:
    catalog = as_service_account(kube, "opsbot-read", "opsbot-remediate")
    for action in actions():
        plan = catalog.plan(action)
        assert "dry run" in catalog.dry_run(plan)
        catalog.execute(plan)
    plan = catalog.plan(delete_a_payments_pod(kube))  # a pod that exists now
    assert "dry run" in catalog.dry_run(plan)
    catalog.execute(plan)
    apps: Any = client.AppsV1Api(kube.api_client(TOKEN))
    assert apps.read_namespaced_deployment("payments", "prod").spec.replicas == 3
    assert (
        apps.read_namespaced_deployment("checkout", "prod").metadata.annotations[
            "deployment.kubernetes.io/revision"
        ]
        == "3"
    )


def test_the_read_role_alone_cannot_change_anything(kube: KubeSandbox) -> None:
    planned = [*actions(), delete_a_payments_pod(kube)]
    catalog = as_service_account(kube, "opsbot-read")
    for action in planned:
        plan = catalog.plan(action)  # reading is allowed
        with pytest.raises(ActionError, match="HTTP 403"):
            catalog.dry_run(plan)
