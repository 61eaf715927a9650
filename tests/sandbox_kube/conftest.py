"""Fixtures for the Kubernetes sandbox tests: servers with a manual clock and typed clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kubernetes import client

from sandbox.kube import KubeSandbox


@pytest.fixture(scope="session")
def kube_server() -> Iterator[KubeSandbox]:
    with KubeSandbox(auto_advance=False) as sandbox:
        yield sandbox


@pytest.fixture
def kube(kube_server: KubeSandbox) -> KubeSandbox:
    """A freshly seeded default cluster; time moves only through `kube.cluster.advance`."""
    kube_server.reset()
    return kube_server


@pytest.fixture(scope="module")
def shared_kube() -> Iterator[KubeSandbox]:
    """One default cluster per module, for tests that only read."""
    with KubeSandbox(auto_advance=False) as sandbox:
        yield sandbox


@pytest.fixture
def core(kube: KubeSandbox) -> Any:
    return client.CoreV1Api(kube.api_client())


@pytest.fixture
def apps(kube: KubeSandbox) -> Any:
    return client.AppsV1Api(kube.api_client())


@pytest.fixture
def http(kube: KubeSandbox) -> Iterator[httpx.Client]:
    """Raw HTTP to the sandbox, for exact wire shapes."""
    with httpx.Client(base_url=kube.url, timeout=10) as session:
        yield session
