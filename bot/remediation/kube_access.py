"""A Kubernetes `ApiClient` for the catalog and the watcher, from the tools' settings."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from bot.settings import ToolsSettings
from tools.config import KubernetesConfig
from tools.k8s.connection import build_api_client


def kube_configured(tools: ToolsSettings) -> bool:
    return bool(tools.kubeconfig or tools.kube_api_url)


def kube_api_client(tools: ToolsSettings) -> client.ApiClient | None:
    """None when no cluster is configured (actions on Kubernetes then fail with a reason)."""
    if not kube_configured(tools):
        return None
    ca_cert: str | None = None
    if tools.kube_token_path:
        sibling = Path(tools.kube_token_path).with_name("ca.crt")  # the service account mount
        ca_cert = str(sibling) if sibling.exists() else None
    config = KubernetesConfig(
        kubeconfig_path=tools.kubeconfig,
        context=tools.kube_context,
        api_url=tools.kube_api_url,
        bearer_token_path=tools.kube_token_path,
        ca_cert_path=ca_cert,
        default_namespace=tools.kube_namespace,
    )
    return build_api_client(config)
