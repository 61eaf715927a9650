"""Every data-source client the bot reads from or acts on, built in one place from settings.

Prometheus, the log store, Jaeger and Kubernetes are configured once here, for the
investigation tools, the capacity analyses, the digests and remediation alike, so the read
side and the write side never disagree about how to reach a backend. In particular an
in-cluster configuration (API URL plus a service-account token file) trusts the CA mounted
next to the token (`ca.crt`), for reads and writes both; before this module existed only the
remediation copy did, and the read-side tools failed TLS with `deploy/`'s configuration.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from bot.settings import ToolsSettings
from tools.budget import OutputBudget
from tools.config import (
    JaegerConfig,
    KubernetesConfig,
    LogSearchConfig,
    PrometheusConfig,
    ToolsConfig,
)
from tools.k8s.connection import build_api_client


def service_account_ca(token_path: str | None) -> str | None:
    """The CA bundle Kubernetes mounts beside a service-account token, when it is there."""
    if not token_path:
        return None
    sibling = Path(token_path).with_name("ca.crt")
    return str(sibling) if sibling.exists() else None


def kubernetes_config(tools: ToolsSettings) -> KubernetesConfig | None:
    """How to reach the cluster (kubeconfig, or API URL + token + mounted CA); None when no
    cluster is configured."""
    if not (tools.kubeconfig or tools.kube_api_url):
        return None
    return KubernetesConfig(
        kubeconfig_path=tools.kubeconfig,
        context=tools.kube_context,
        api_url=tools.kube_api_url,
        bearer_token_path=tools.kube_token_path,
        ca_cert_path=service_account_ca(tools.kube_token_path),
        default_namespace=tools.kube_namespace,
        output=OutputBudget(max_tokens=tools.tool_output_tokens),
        timeout_seconds=tools.tool_timeout_seconds,
    )


def tools_config(tools: ToolsSettings) -> ToolsConfig:
    """Every configured data source with the tools' output budget and timeout."""
    out = OutputBudget(max_tokens=tools.tool_output_tokens)
    timeout = tools.tool_timeout_seconds
    return ToolsConfig(
        prometheus=PrometheusConfig(url=tools.prometheus_url, output=out, timeout_seconds=timeout)
        if tools.prometheus_url
        else None,
        logs=LogSearchConfig(
            url=tools.logs_url,
            flavor=tools.logs_flavor,
            index_pattern=tools.logs_index,
            output=out,
            timeout_seconds=timeout,
        )
        if tools.logs_url
        else None,
        jaeger=JaegerConfig(url=tools.jaeger_url, output=out, timeout_seconds=timeout)
        if tools.jaeger_url
        else None,
        kubernetes=kubernetes_config(tools),
    )


def kube_api_client(tools: ToolsSettings) -> client.ApiClient | None:
    """A Kubernetes API client for actions (the catalog, the watcher); None when no cluster is
    configured (actions on Kubernetes then fail with a reason)."""
    config = kubernetes_config(tools)
    return None if config is None else build_api_client(config)
