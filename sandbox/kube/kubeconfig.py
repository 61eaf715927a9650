"""Kubeconfig files and configured `kubernetes` clients for a sandbox URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config


def kubeconfig_dict(
    url: str, token: str | None = None, namespace: str = "default", name: str = "sandbox"
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url}}],
        "users": [{"name": name, "user": {"token": token} if token else {}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}
        ],
        "current-context": name,
        "preferences": {},
    }


def write_kubeconfig(
    url: str, path: str | Path, token: str | None = None, namespace: str = "default"
) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(kubeconfig_dict(url, token, namespace), sort_keys=False))
    return target


def api_client(url: str, token: str | None = None) -> client.ApiClient:
    """An ApiClient configured exactly as `load_kube_config` would from the sandbox kubeconfig."""
    configuration = client.Configuration()
    # the loader is untyped upstream; it is what real users of a kubeconfig go through
    config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
        kubeconfig_dict(url, token), client_configuration=configuration
    )
    return client.ApiClient(configuration)
