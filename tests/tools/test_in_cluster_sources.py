"""opsbot running in a pod (deploy/'s configuration: the API server URL, the service-account
token file and the CA mounted beside it) reaches a TLS API server for reads and for actions
alike, because both sides get their Kubernetes client from `bot.sources`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from bot.settings import ToolsSettings
from bot.sources import kube_api_client, tools_config
from sandbox.kube import KubeSandbox
from tools.registry import build_toolbox


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cluster CA and a server certificate for 127.0.0.1 signed by it."""
    root = tmp_path_factory.mktemp("pki")
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=kubernetes-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=root,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=kube-apiserver",
        cwd=root,
    )  # fmt: skip
    (root / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "1", "-out", "server.crt", "-extfile", "san.cnf",
        cwd=root,
    )  # fmt: skip
    return root


@pytest.fixture(scope="module")
def apiserver(pki: Path) -> Iterator[KubeSandbox]:
    with KubeSandbox(auto_advance=False, tls=(pki / "server.crt", pki / "server.key")) as kube:
        yield kube


def _service_account(folder: Path, pki: Path, *, with_ca: bool) -> ToolsSettings:
    """The files Kubernetes mounts at /var/run/secrets/kubernetes.io/serviceaccount."""
    folder.mkdir()
    (folder / "token").write_text("a-service-account-token\n")
    if with_ca:
        (folder / "ca.crt").write_bytes((pki / "ca.crt").read_bytes())
    return ToolsSettings(kube_api_url=None, kube_token_path=str(folder / "token"))


def test_the_read_tools_trust_the_mounted_cluster_ca(
    apiserver: KubeSandbox, pki: Path, tmp_path: Path
) -> None:
    tools = _service_account(tmp_path / "sa", pki, with_ca=True).model_copy(
        update={"kube_api_url": apiserver.url}
    )
    assert apiserver.url.startswith("https://")
    result = build_toolbox(tools_config(tools)).run("k8s_pods", {"namespace": "kube-system"})
    assert not result.is_error, result.content


def test_the_action_client_trusts_the_mounted_cluster_ca(
    apiserver: KubeSandbox, pki: Path, tmp_path: Path
) -> None:
    tools = _service_account(tmp_path / "sa", pki, with_ca=True).model_copy(
        update={"kube_api_url": apiserver.url}
    )
    api = kube_api_client(tools)
    assert api is not None
    try:
        names = [
            n.metadata.name for n in client.CoreV1Api(api).list_namespace().items if n.metadata
        ]
    finally:
        api.close()  # type: ignore[no-untyped-call]
    assert "kube-system" in names


def test_without_the_mounted_ca_the_server_is_not_trusted(
    apiserver: KubeSandbox, pki: Path, tmp_path: Path
) -> None:
    tools = _service_account(tmp_path / "sa", pki, with_ca=False).model_copy(
        update={"kube_api_url": apiserver.url}
    )
    result = build_toolbox(tools_config(tools)).run("k8s_pods", {"namespace": "kube-system"})
    assert result.is_error
    assert "certificate" in result.content.lower() or "ssl" in result.content.lower()
