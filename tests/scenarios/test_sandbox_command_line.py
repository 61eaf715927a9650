"""`python -m sandbox up | status | down` from separate processes, as a person uses it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from sandbox.world.statefile import SandboxState, alive


def sandbox(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "--state", str(state), *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def kubectl(kubeconfig: str, *args: str) -> str:
    done = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_up_plays_a_scenario_in_the_background_then_status_and_down_work_from_elsewhere(
    tmp_path: Path,
) -> None:
    state_file = tmp_path / "sandbox.json"
    started = sandbox(
        state_file,
        "up",
        "--scenario",
        "deploy-error-rate",
        "--history",
        "1h",
        "--no-slack",
    )
    assert started.returncode == 0, started.stderr
    state = SandboxState.read(state_file)
    assert state is not None
    try:
        assert "CheckoutHighErrorRate" in started.stdout
        assert sandbox(state_file, "up").returncode == 1  # one sandbox per state file
        status = sandbox(state_file, "status")
        assert status.returncode == 0, status.stdout
        assert "prometheus    up" in status.stdout
        kubeconfig = str(state.urls["kubeconfig"])
        pods = kubectl(kubeconfig, "get", "pods", "-A")
        assert "checkout-" in pods
        assert "kube-system" in pods
        image = kubectl(
            kubeconfig,
            "get",
            "deployment",
            "checkout",
            "-n",
            "prod",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        )
        assert image.endswith("checkout:1.9.0")
        alerts = httpx.get(f"{state.urls['alertmanager']}/api/v2/alerts", timeout=10).json()
        assert {a["labels"]["alertname"] for a in alerts} == {"CheckoutHighErrorRate"}
        assert json.loads(state_file.read_text())["scenario"] == "deploy-error-rate"
    finally:
        stopped = sandbox(state_file, "down")
    assert stopped.returncode == 0, stopped.stderr
    assert not state_file.exists()
    assert not alive(state.pid)
    assert not any(alive(pid) for pid in state.children.values())
    assert sandbox(state_file, "status").returncode == 3
