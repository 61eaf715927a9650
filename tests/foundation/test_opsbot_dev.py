"""`opsbot dev` as a user runs it: one command, a workspace URL, and a bot that answers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sandbox.procs.process import free_port


@pytest.mark.parametrize("mode", ["http", "socket"])
def test_opsbot_dev_serves_a_workspace_where_ask_ai_help_answers(tmp_path: Path, mode: str) -> None:
    page_port, bot_port = free_port(), free_port()
    argv = [
        sys.executable,
        "-m",
        "bot",
        "dev",
        "--port",
        str(page_port),
        "--bot-port",
        str(bot_port),
        "--bare",  # the workspace and the bot only; the live world is tested elsewhere
    ]
    if mode == "socket":
        argv.append("--socket-mode")
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        argv,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        url = f"http://127.0.0.1:{page_port}"
        deadline = time.monotonic() + 120  # a loaded CI machine imports slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{bot_port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert httpx.get(url).status_code == 200
        answer = httpx.post(
            f"{url}/ui/send",
            json={"user": "U0ALICE", "channel": "incidents", "text": "/ask-ai help"},
            timeout=10,
        ).json()
        assert answer["delivery"]["status"] == 200
        assert "Ask opsbot" in str(answer["delivery"])
        printed = (tmp_path / "dev.log").read_text()
        assert re.search(rf"workspace: http://127\.0\.0\.1:{page_port}", printed)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
