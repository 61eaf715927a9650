"""Seeds describe clusters (with faults, RBAC and a clock); the CLI serves one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kubernetes import client

from sandbox.kube import KubeSandbox, SeedError

SCENARIO: dict[str, Any] = {
    "clock": {"start": "2025-03-01T09:00:00Z"},
    "namespaces": ["shop"],
    "nodes": [{"name": "worker-a", "cpu": "8", "memory": "32Gi"}, {"name": "worker-b"}],
    "deployments": [
        {
            "name": "cart",
            "namespace": "shop",
            "replicas": 2,
            "history": [{"api": "shop/cart:1.0"}],
            "containers": [
                {
                    "name": "api",
                    "image": "shop/cart:1.1",
                    "ports": [8080],
                    "env": {"MODE": "fast"},
                    "resources": {"limits": {"memory": "128Mi"}},
                    "logs": {
                        "startup": ["cart booting"],
                        "lines": ["cart tick {n}"],
                        "interval_seconds": 2,
                    },
                }
            ],
        }
    ],
    "faults": [{"kind": "oom", "namespace": "shop", "deployment": "cart", "after_seconds": 10}],
    "advance_seconds": 60,
}


def test_a_scenario_seed_builds_history_faults_logs_and_clock() -> None:
    with KubeSandbox(SCENARIO, auto_advance=False) as kube:
        core: Any = client.CoreV1Api(kube.api_client())
        apps: Any = client.AppsV1Api(kube.api_client())
        assert [n.metadata.name for n in core.list_node().items] == ["worker-a", "worker-b"]
        assert core.read_node("worker-a").status.capacity["memory"] == "33554432Ki"
        deployment = apps.read_namespaced_deployment("cart", "shop")
        assert deployment.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
        assert deployment.spec.template.spec.containers[0].env[0].value == "fast"
        pod = core.list_namespaced_pod("shop").items[0]
        assert pod.metadata.creation_timestamp.isoformat().startswith("2025-03-01T09:0")
        status = pod.status.container_statuses[0]
        assert status.restart_count >= 2
        assert status.last_state.terminated.reason == "OOMKilled"
        log = core.read_namespaced_pod_log(pod.metadata.name, "shop", previous=True)
        assert "cart booting" in log.splitlines()[0]
        assert "cart tick" in log


def test_invalid_seeds_are_refused_with_the_api_error() -> None:
    broken = {
        "deployments": [{"name": "Bad_Name", "containers": [{"name": "app", "image": "x:1"}]}]
    }
    with pytest.raises(SeedError, match=r"metadata\.name"):
        KubeSandbox(broken, auto_advance=False)
    with pytest.raises(SeedError, match="unknown fault kind"):
        KubeSandbox({"faults": [{"kind": "gremlins"}]}, auto_advance=False)


def test_the_admin_api_adds_seeds_and_resets_the_cluster(kube: KubeSandbox) -> None:
    with httpx.Client(base_url=kube.url, timeout=30) as http:
        extra = {
            "namespaces": ["extra"],
            "deployments": [
                {"name": "job", "namespace": "extra", "containers": [{"name": "w", "image": "w:1"}]}
            ],
        }
        assert http.post("/sandbox/seed", json=extra).status_code == 201
        assert http.get("/apis/apps/v1/namespaces/extra/deployments/job").status_code == 200
        state = http.get("/sandbox/state").json()
        assert state["faults"] == []
        assert state["rbac"]["rules"] is None
        reset = http.post("/sandbox/reset", content=yaml.safe_dump({"namespaces": ["fresh"]}))
        assert reset.status_code == 201
        assert http.get("/api/v1/namespaces/extra").status_code == 404
        assert http.get("/api/v1/namespaces/fresh").status_code == 200
        assert http.post("/sandbox/reset").status_code == 201
        assert http.get("/apis/apps/v1/namespaces/prod/deployments/checkout").status_code == 200


def test_cli_serves_on_a_free_port_and_writes_a_kubeconfig(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump({"namespaces": ["cli"], "nodes": [{"name": "solo"}]}))
    command = [
        sys.executable,
        "-m",
        "sandbox.kube",
        "--port",
        "0",
        "--seed",
        str(seed),
        "--kubeconfig",
        str(kubeconfig),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"] == url
        nodes = httpx.get(f"{url}/api/v1/nodes", timeout=10).json()
        assert [n["metadata"]["name"] for n in nodes["items"]] == ["solo"]
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode == 0
