"""Which workloads talk to a Service: every Deployment, in any namespace the bot may read,
whose containers' environment points at the Service's host (`name.namespace.svc`, or the
bare `name` from its own namespace), with the database user and application name its
connection settings carry.

A database's clients are not all on the request path: a batch or ETL workload in another
namespace shows in no request trace, only in the database's own per-client statistics
(postgres_exporter's `usename`/`application_name`). This tool joins those names to
workloads. Read-only; connection strings are parsed for host, user and application name,
and no password or other value is returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from urllib.parse import parse_qs, urlsplit

from kubernetes import client
from pydantic import BaseModel, Field

from tools.base import ToolResult
from tools.budget import fit_items
from tools.k8s.base import KubeTool, NamespacedArgs, dashboard_object, name_field
from tools.k8s.connection import kube_call

USER_KEYS = re.compile(r"(^|_)(PGUSER|USER|USERNAME|DB_USER|DATABASE_USER)$")
APP_KEYS = re.compile(r"(^|_)(PGAPPNAME|APPLICATION_NAME|APP_NAME)$")
HOST_KEYS = re.compile(r"(^|_)(HOST|PGHOST|HOSTNAME|ADDR|ADDRESS)$")


class ServiceClient(BaseModel):
    """One workload whose configuration points at the Service."""

    namespace: str
    name: str
    kind: str = "Deployment"
    container: str
    env: list[str] = Field(description="The env variables naming the Service's host.")
    user: str | None = Field(None, description="The user its connection settings name.")
    application_name: str | None = Field(
        None, description="The application_name its connection settings give, if any."
    )
    images: list[str] = Field(default_factory=list)


class ServiceClientsData(BaseModel):
    """Structured result of k8s_service_clients."""

    namespace: str
    service: str
    clients: list[ServiceClient]


class ServiceClientsArgs(NamespacedArgs):
    service: str = name_field("The Service the clients connect to, e.g. the database's.")


def names_host(value: str, service: str, namespace: str, same_namespace: bool) -> bool:
    """The value points at the Service: its `name.namespace[.svc...]` host anywhere, or (from
    the same namespace) the bare name as a URL host or as the whole value."""
    qualified = re.compile(rf"(^|[/@=,\s]){re.escape(service)}\.{re.escape(namespace)}(\.|:|/|$)")
    if qualified.search(value):
        return True
    if not same_namespace:
        return False
    if value.strip() == service:
        return True
    host = urlsplit(value).hostname if "://" in value else None
    return host == service


def connection_names(value: str) -> tuple[str | None, str | None]:
    """(user, application_name) a connection URL carries; (None, None) for other values."""
    if "://" not in value:
        return None, None
    parts = urlsplit(value)
    query = parse_qs(parts.query)
    app = query.get("application_name") or query.get("ApplicationName")
    user = query.get("user")
    return parts.username or (user[0] if user else None), app[0] if app else None


def clients_in(
    deployment: client.V1Deployment, service: str, namespace: str
) -> Iterator[ServiceClient]:
    """The containers of `deployment` whose env points at `service` in `namespace`."""
    meta = deployment.metadata
    own = (meta.namespace if meta else None) or ""
    spec = deployment.spec.template.spec if deployment.spec and deployment.spec.template else None
    for container in (spec.containers if spec else None) or []:
        env: Mapping[str, str] = {
            e.name: e.value for e in container.env or [] if e.value is not None
        }
        hits = [k for k, v in env.items() if names_host(v, service, namespace, own == namespace)]
        if not hits:
            continue
        user = app = None
        for key in hits:
            found_user, found_app = connection_names(env[key])
            user, app = user or found_user, app or found_app
        user = user or next((v for k, v in env.items() if USER_KEYS.search(k)), None)
        app = app or next((v for k, v in env.items() if APP_KEYS.search(k)), None)
        yield ServiceClient(
            namespace=own,
            name=(meta.name if meta else None) or "",
            container=container.name,
            env=hits,
            user=user,
            application_name=app,
            images=[container.image] if container.image else [],
        )


def describe_client(found: ServiceClient) -> str:
    names = ", ".join(
        f"{what} {value}"
        for what, value in (("user", found.user), ("application_name", found.application_name))
        if value
    )
    return (
        f"- {found.kind} {found.namespace}/{found.name} (container {found.container}, env "
        f"{', '.join(found.env)}{'; ' + names if names else ''}; image "
        f"{', '.join(found.images) or '?'})"
    )


class ServiceClientsTool(KubeTool[ServiceClientsArgs]):
    name = "k8s_service_clients"
    description = (
        "List every Deployment, in any namespace the bot may read, whose containers' env "
        "points at a Service (a database, a cache, an API), with the user and "
        "application_name its connection settings carry. Use it to join a database's "
        "per-client statistics (postgres_exporter usename/application_name) to workloads, "
        "including batch and ETL workloads no request trace reaches; then read their "
        "rollouts with k8s_deployment."
    )
    args_model = ServiceClientsArgs

    def caps(self) -> str:
        return f"Deployments only; about {self.config.output.max_tokens} tokens; no env values"

    def execute(self, args: ServiceClientsArgs) -> ToolResult:
        namespace = self.namespace(args.namespace)
        allowed = self.config.allowed_namespaces
        listed = kube_call(
            "deployments in every namespace",
            lambda: self.apps.list_deployment_for_all_namespaces(_request_timeout=self.timeout),
        ).items
        readable = [
            d for d in listed if not allowed or (d.metadata and d.metadata.namespace in allowed)
        ]
        found = [c for d in readable for c in clients_in(d, args.service, namespace)]
        data = ServiceClientsData(namespace=namespace, service=args.service, clients=found)
        call = "GET /apis/apps/v1/deployments"
        link = dashboard_object("deployment", None, None)
        if not found:
            content = (
                f"No data: no Deployment's env points at {args.service}.{namespace} "
                "(clients configured through Secrets or files are not seen)."
            )
            evidence = [self.evidence(call, {}, "no clients", link)]
            return ToolResult.empty(self.name, content, data=data, evidence=evidence)
        content, left_out = fit_items(
            f"{len(found)} workloads point at Service {namespace}/{args.service}:",
            [describe_client(c) for c in found],
            self.config.output.max_chars,
            lambda n: f"... and {n} more clients left out.",
        )
        excerpt = "; ".join(f"{c.namespace}/{c.name}" for c in found)
        evidence = [self.evidence(call, {}, excerpt, link)]
        return ToolResult.success(
            self.name, content, data=data, evidence=evidence, truncated=left_out > 0
        )
