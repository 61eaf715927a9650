"""k8s_service_clients: the workloads whose env points at a Service, with the user and
application name their connection settings carry, and never a password."""

from __future__ import annotations

from kubernetes import client

from sandbox.kube import KubeSandbox, RbacPolicy
from tests.tools.test_investigation_tools import shipped_read_role
from tools.config import KubernetesConfig
from tools.k8s.service_clients import (
    ServiceClientsArgs,
    ServiceClientsData,
    ServiceClientsTool,
    clients_in,
    connection_names,
    describe_client,
    names_host,
)


def _deployment(namespace: str, name: str, env: dict[str, str]) -> client.V1Deployment:
    container = client.V1Container(
        name="app",
        image=f"registry.example.com/{name}:1.0",
        env=[client.V1EnvVar(name=k, value=v) for k, v in env.items()],
    )
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={"app": name}),
        spec=client.V1PodSpec(containers=[container]),
    )
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, namespace=namespace),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels={"app": name}), template=template
        ),
    )


def test_a_qualified_host_counts_from_any_namespace_and_a_bare_name_only_from_its_own() -> None:
    assert names_host("postgresql://u@postgres.prod.svc:5432/shop", "postgres", "prod", False)
    assert names_host("postgres.prod.svc.cluster.local", "postgres", "prod", False)
    assert names_host("postgresql://u@postgres:5432/shop", "postgres", "prod", True)
    assert not names_host("postgresql://u@postgres:5432/shop", "postgres", "prod", False)
    assert not names_host("postgres-replica.prod.svc", "postgres", "prod", False)


def test_the_user_and_application_name_come_from_the_url_and_the_password_never() -> None:
    url = "postgresql://reporting:s3cret@postgres.prod.svc:5432/shop?application_name=etl"
    assert connection_names(url) == ("reporting", "etl")
    found = list(
        clients_in(_deployment("analytics", "etl", {"DATABASE_URL": url}), "postgres", "prod")
    )
    assert [(c.namespace, c.name, c.user, c.application_name) for c in found] == [
        ("analytics", "etl", "reporting", "etl")
    ]
    assert "s3cret" not in describe_client(found[0]) + found[0].model_dump_json()


def test_a_libpq_or_spring_style_user_variable_names_the_user() -> None:
    env = {
        "SPRING_DATASOURCE_URL": "jdbc:postgresql://postgres.prod.svc.cluster.local:5432/shop",
        "SPRING_DATASOURCE_USERNAME": "billing",
    }
    found = list(clients_in(_deployment("billing", "export", env), "postgres", "prod"))
    assert [(c.user, c.env) for c in found] == [("billing", ["SPRING_DATASOURCE_URL"])]


def test_a_workload_that_does_not_point_at_the_service_is_not_a_client() -> None:
    env = {"REDIS_URL": "redis://cache.prod.svc:6379"}
    assert list(clients_in(_deployment("prod", "web", env), "postgres", "prod")) == []


def test_against_the_kubernetes_stand_in_a_client_in_another_namespace_is_found() -> None:
    """The shipped read role lists Deployments in every namespace; a worker in another
    namespace that reads the database is found, its password never shown."""
    url = "postgresql://reporting:s3cret@postgres.prod.svc:5432/shop?application_name=sync"
    with KubeSandbox(auto_advance=False) as kube:
        api = kube.api_client()
        client.CoreV1Api(api).create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name="analytics"))
        )
        client.AppsV1Api(api).create_namespaced_deployment(
            "analytics", _deployment("analytics", "sync", {"DATABASE_URL": url})
        )
        kube.cluster.set_rbac(RbacPolicy(rules=shipped_read_role()))
        tool = ServiceClientsTool(KubernetesConfig(default_namespace="prod"), api_client=api)
        result = tool.run(ServiceClientsArgs(namespace="prod", service="postgres"))
    assert isinstance(result.data, ServiceClientsData), result.content
    found = {(c.namespace, c.name): c for c in result.data.clients}
    assert found[("analytics", "sync")].application_name == "sync"
    assert found[("analytics", "sync")].user == "reporting"
    assert "s3cret" not in result.content
    assert "analytics/sync" in result.content
