"""kubectl works against the sandbox through a generated kubeconfig (skipped without kubectl)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.kube import KubeSandbox

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


class Kubectl:
    def __init__(self, kubeconfig: Path, cache: Path) -> None:
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig), "KUBECACHEDIR": str(cache)}

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(KUBECTL), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result


@pytest.fixture(scope="module")
def running() -> Iterator[KubeSandbox]:
    with KubeSandbox(auto_advance=True, time_scale=20) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def kubectl(running: KubeSandbox, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    folder = tmp_path_factory.mktemp("kubectl")
    return Kubectl(running.write_kubeconfig(folder / "config"), folder / "cache")


def test_kubectl_get_pods_all_namespaces_prints_the_server_side_table(kubectl: Kubectl) -> None:
    lines = kubectl("get", "pods", "-A").stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    rows = [line.split() for line in lines[1:]]
    assert {row[0] for row in rows} == {"kube-system", "prod", "staging"}
    assert all(row[2] == "1/1" and row[3] == "Running" for row in rows)


def test_kubectl_get_nodes_deployments_and_events(kubectl: Kubectl) -> None:
    nodes = kubectl("get", "nodes").stdout
    assert "node-1   Ready" in nodes
    deployments = kubectl("get", "deploy", "-n", "prod", "-o", "wide").stdout
    assert "registry.example.com/shop/checkout:1.8.2" in deployments
    events = kubectl("get", "events", "-n", "prod").stdout
    assert "ScalingReplicaSet" in events


def test_kubectl_rollout_restart_status_and_undo(kubectl: Kubectl) -> None:
    assert "restarted" in kubectl("rollout", "restart", "deploy/checkout", "-n", "prod").stdout
    status = kubectl("rollout", "status", "deploy/checkout", "-n", "prod", "--timeout=90s").stdout
    assert 'deployment "checkout" successfully rolled out' in status
    history = kubectl("rollout", "history", "deploy/checkout", "-n", "prod").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2", "3"]
    assert "rolled back" in kubectl("rollout", "undo", "deploy/checkout", "-n", "prod").stdout
    kubectl("rollout", "status", "deploy/checkout", "-n", "prod", "--timeout=90s")
    history = kubectl("rollout", "history", "deploy/checkout", "-n", "prod").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "3", "4"]
    template = kubectl(
        "get",
        "deploy",
        "checkout",
        "-n",
        "prod",
        "-o",
        "jsonpath={.spec.template.metadata.annotations}",
    ).stdout
    assert "restartedAt" not in template


def test_kubectl_set_image_scale_logs_and_describe(kubectl: Kubectl) -> None:
    kubectl(
        "set",
        "image",
        "deploy/payments",
        "app=registry.example.com/shop/payments:3.2.1",
        "-n",
        "prod",
    )
    kubectl("rollout", "status", "deploy/payments", "-n", "prod", "--timeout=90s")
    kubectl("scale", "deploy/payments", "--replicas=3", "-n", "prod")
    kubectl("rollout", "status", "deploy/payments", "-n", "prod", "--timeout=90s")
    pods = kubectl("get", "pods", "-n", "prod", "-l", "app=payments", "-o", "name").stdout.split()
    assert len(pods) == 3
    logs = kubectl("logs", pods[0], "-n", "prod", "--tail=2").stdout
    assert len(logs.splitlines()) == 2
    described = kubectl("describe", "deploy", "payments", "-n", "prod").stdout
    assert "registry.example.com/shop/payments:3.2.1" in described
    assert "NewReplicaSetAvailable" in described
    previous = kubectl("logs", pods[0], "-n", "prod", "--previous", check=False)
    assert previous.returncode != 0
    assert "previous terminated container" in previous.stderr


def test_kubectl_apply_validates_on_the_server_and_diffs(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    body = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
"""
    manifest.write_text(body.replace("REPLICAS", "2"))
    assert "deployment.apps/web created" in kubectl("apply", "-f", str(manifest)).stdout
    manifest.write_text(body.replace("REPLICAS", "3"))
    diff = kubectl("diff", "-f", str(manifest), check=False)
    assert diff.returncode == 1
    assert "+  replicas: 3" in diff.stdout
    assert "configured" in kubectl("apply", "-f", str(manifest)).stdout
    kubectl("rollout", "status", "deploy/web", "--timeout=90s")
    bogus = (
        body.replace("REPLICAS", "1")
        .replace("name: web,", "name: web-bogus,")
        .replace("replicas: 1", "replicas: 1\n  bogus: true")
    )
    manifest.write_text(bogus)
    strict = kubectl("apply", "-f", str(manifest), check=False)
    assert strict.returncode != 0
    assert 'unknown field "spec.bogus"' in strict.stderr
