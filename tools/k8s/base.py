"""What every Kubernetes tool shares: typed API clients, namespace policy, evidence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from kubernetes import client
from pydantic import Field

from tools.base import ArgsT, ErrorKind, Evidence, Tool, ToolArgs, ToolFailure, utc_now
from tools.budget import shorten
from tools.config import KubernetesConfig
from tools.k8s.connection import build_api_client

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"


def namespace_field() -> Any:
    return Field(
        None,
        max_length=63,
        pattern=DNS_LABEL,
        description="Namespace; omit for the configured default namespace.",
    )


def name_field(what: str) -> Any:
    return Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN, description=what)


class NamespacedArgs(ToolArgs):
    namespace: str | None = namespace_field()


class KubeTool(Tool[ArgsT]):
    """Base of the read-only Kubernetes tools; several tools may share one ApiClient."""

    def __init__(
        self,
        config: KubernetesConfig,
        *,
        api_client: client.ApiClient | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.clock = clock  # what "recent" means (a crash minutes ago, a change window)
        self.api_client = api_client or build_api_client(config)
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)

    @property
    def timeout(self) -> float:
        return self.config.timeout_seconds

    def namespace(self, requested: str | None) -> str:
        namespace = requested or self.config.default_namespace
        allowed = self.config.allowed_namespaces
        if allowed and namespace not in allowed:
            raise ToolFailure(
                ErrorKind.INVALID_INPUT,
                f"Namespace {namespace!r} is outside what the bot may read "
                f"({', '.join(allowed)}). Use one of those.",
            )
        return namespace

    def evidence(
        self, call: str, params: dict[str, Any], excerpt: str, dashboard_path: str | None
    ) -> Evidence:
        """`call` is the REST path; the link needs a configured dashboard."""
        query = call + (f"?{urlencode(params)}" if params else "")
        link = None
        if self.config.dashboard_url and dashboard_path is not None:
            link = f"{self.config.dashboard_url.rstrip('/')}/#/{dashboard_path}"
        return Evidence(tool=self.name, query=query, link=link, excerpt=shorten(excerpt, 300))

    def close(self) -> None:
        self.api_client.close()  # type: ignore[no-untyped-call]


def dashboard_object(kind: str, namespace: str | None, name: str | None) -> str:
    """Kubernetes Dashboard routes: `pod/<ns>/<name>`, `node/<name>`, `pod?namespace=<ns>`."""
    if name and namespace:
        return f"{kind}/{quote(namespace)}/{quote(name)}?namespace={quote(namespace)}"
    if name:
        return f"{kind}/{quote(name)}"
    return f"{kind}?namespace={quote(namespace or '')}"
