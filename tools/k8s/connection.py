"""An `ApiClient` built from configuration, and the client's errors made actionable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tools.base import ErrorKind, ToolFailure
from tools.config import KubernetesConfig

T = TypeVar("T")


def build_api_client(settings: KubernetesConfig) -> client.ApiClient:
    """From a kubeconfig file, or from api_url plus a token; retries off so failures are quick."""
    configuration = client.Configuration()
    if settings.kubeconfig_path:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=settings.kubeconfig_path,
            context=settings.context,
            client_configuration=configuration,
        )
    elif settings.api_url:
        configuration.host = settings.api_url.rstrip("/")
        token = _token(settings)
        if token:
            configuration.api_key = {"authorization": token}
            configuration.api_key_prefix = {"authorization": "Bearer"}
        configuration.ssl_ca_cert = settings.ca_cert_path
        configuration.verify_ssl = settings.verify_tls
    else:
        raise ValueError("KubernetesConfig needs kubeconfig_path or api_url")
    configuration.retries = 0
    return client.ApiClient(configuration)


def _token(settings: KubernetesConfig) -> str | None:
    if settings.bearer_token is not None:
        return settings.bearer_token.get_secret_value()
    if settings.bearer_token_path:
        return Path(settings.bearer_token_path).read_text().strip()
    return None


def kube_call(what: str, action: Callable[[], T]) -> T:
    """Run one API call; its failures become ToolFailure naming `what` was asked."""
    try:
        return action()
    except ApiException as exc:
        raise kube_failure(what, exc) from None
    except urllib3.exceptions.HTTPError as exc:
        raise ToolFailure(
            ErrorKind.UNAVAILABLE,
            f"Cannot reach the Kubernetes API server while reading {what} "
            f"({_short(str(exc))}). Cluster state is unavailable right now; continue with "
            "other sources.",
        ) from None
    except ValueError as exc:  # an answer that does not deserialize as the API object
        raise ToolFailure(
            ErrorKind.UNAVAILABLE,
            f"The Kubernetes API server answered {what} with something that is not a "
            f"Kubernetes object ({_short(str(exc))}); the configured URL may point at "
            "something else. Continue with other sources.",
        ) from None


def kube_failure(what: str, exc: ApiException) -> ToolFailure:
    message = status_message(exc)
    status = int(exc.status or 0)
    if status == 404:
        return ToolFailure(
            ErrorKind.NOT_FOUND,
            f"Kubernetes has no {what} ({message}). Check the name and namespace, e.g. "
            "list pods with k8s_pods.",
        )
    if status in (401, 403):
        return ToolFailure(
            ErrorKind.UNAUTHORIZED,
            f"The bot may not read {what} ({message}). Its RBAC role lacks this permission; "
            "continue with other sources.",
        )
    if status in (400, 422):
        return ToolFailure(
            ErrorKind.REJECTED,
            f"Kubernetes rejected the request for {what}: {message}. Fix the arguments and "
            "call again.",
        )
    return ToolFailure(
        ErrorKind.UNAVAILABLE,
        f"Kubernetes failed to return {what} (HTTP {status}: {message}). If this mentions a "
        "node or kubelet, that node may be down: check k8s_nodes.",
    )


def status_message(exc: ApiException) -> str:
    """The `message` of the Status object the API server answered with."""
    try:
        body = json.loads(exc.body or "")
    except ValueError:
        return _short(str(exc.reason or exc.body or "error"))
    if isinstance(body, dict) and body.get("message"):
        return _short(str(body["message"]))
    return _short(str(exc.reason or "error"))


def _short(text: str) -> str:
    return " ".join(text.split())[:300]
