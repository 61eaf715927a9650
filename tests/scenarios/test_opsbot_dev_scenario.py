"""`opsbot dev --scenario oom-kill`: the alerts reach the workspace through the real
Alertmanager and open an incident thread a person can see."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sandbox.procs.process import free_port


def test_opsbot_dev_with_a_scenario_shows_its_incident_in_the_workspace(tmp_path: Path) -> None:
    page_port, bot_port = free_port(), free_port()
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "dev",
            "--port",
            str(page_port),
            "--bot-port",
            str(bot_port),
            "--scenario",
            "oom-kill",
        ],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        headers: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not headers:
            try:
                state = httpx.get(f"http://127.0.0.1:{page_port}/ui/state", timeout=2).json()
            except (httpx.TransportError, ValueError):
                time.sleep(0.5)
                continue
            incidents = next((c["id"] for c in state["channels"] if c["name"] == "incidents"), None)
            headers = [
                m.get("text", "") for m in state["messages"].get(incidents, []) if m.get("bot_id")
            ]
            time.sleep(0.5)
        assert headers, (tmp_path / "dev.log").read_text()[-3000:]
        assert "checkout" in headers[0] or "payments" in headers[0]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
