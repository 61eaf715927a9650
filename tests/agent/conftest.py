"""Session-scoped real backends shared by the agent tests: the kube stand-in, Prometheus with
backfilled history, osmem-server with logs, the Jaeger stand-in and the Claude stand-in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes import client

from sandbox.claude import ClaudeSandbox
from sandbox.jaeger import TraceStore, create_app
from sandbox.kube import KubeSandbox
from sandbox.procs import OpenSearchProcess, PrometheusProcess, start_opensearch, start_prometheus
from sandbox.serve import ServerThread
from tests.agent import world

SANDBOX_KEY = "sandbox-key"


@pytest.fixture(scope="session")
def world_now() -> datetime:
    return datetime.fromtimestamp(int(time.time()) // 60 * 60, UTC)


@pytest.fixture(scope="session")
def kube(world_now: datetime) -> Iterator[KubeSandbox]:
    with KubeSandbox(
        world.cluster_seed(), auto_advance=False, start=world_now - world.ROLLOUT_AGO
    ) as sandbox:
        apps = client.AppsV1Api(sandbox.api_client())
        for namespace, image in (
            ("prod", "registry.example.com/shop/checkout:1.9.0"),
            ("staging", world.BAD_IMAGE),
        ):
            patch = {
                "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}
            }
            apps.patch_namespaced_deployment("checkout", namespace, patch)
        sandbox.cluster.advance(120)
        yield sandbox


@pytest.fixture(scope="session")
def node_kube() -> Iterator[KubeSandbox]:
    with KubeSandbox(world.node_seed(), auto_advance=False) as sandbox:
        sandbox.cluster.advance(60)
        yield sandbox


@pytest.fixture(scope="session")
def kubeconfig(kube: KubeSandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return kube.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")


@pytest.fixture(scope="session")
def prometheus(world_now: datetime) -> Iterator[PrometheusProcess]:
    with start_prometheus(history=world.metric_history(world_now)) as server:
        yield server


@pytest.fixture(scope="session")
def opensearch(world_now: datetime) -> Iterator[OpenSearchProcess]:
    with start_opensearch() as server:
        server.create_index("logs-app", world.LOG_MAPPINGS)
        server.bulk_index("logs-app", world.app_logs(world_now))
        yield server


@pytest.fixture(scope="session")
def jaeger(world_now: datetime) -> Iterator[ServerThread]:
    with ServerThread(create_app(TraceStore(world.traces(world_now)))) as server:
        yield server


@dataclass
class ClaudeServer:
    sandbox: ClaudeSandbox
    url: str


@pytest.fixture(scope="session")
def claude() -> Iterator[ClaudeServer]:
    sandbox = ClaudeSandbox(api_keys=[SANDBOX_KEY])
    with ServerThread(sandbox.app) as server:
        yield ClaudeServer(sandbox, server.url)


@dataclass
class Backends:
    kubeconfig: Path
    prometheus: str
    logs: str
    jaeger: str


@pytest.fixture(scope="session")
def backends(
    kubeconfig: Path,
    prometheus: PrometheusProcess,
    opensearch: OpenSearchProcess,
    jaeger: ServerThread,
) -> Backends:
    return Backends(kubeconfig, prometheus.url, opensearch.url, jaeger.url)
