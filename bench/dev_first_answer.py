"""From a fresh clone to the first answered /ask-ai: what a new user waits for.

    python bench/dev_first_answer.py [--repo PATH] [--keep]

Clones the repository (HEAD) into a temporary folder, runs `bash scripts/dev.sh` there as
the README says, and prints when each phase ended, in seconds from the start: the
virtualenv created and opsbot installed (pip), the workspace URL printed, and the first
`/ask-ai why is checkout slow?` answered (sent through the page's own endpoint). The
phases show what dominates.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

QUESTION = "/ask-ai why is checkout slow?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answered(url: str) -> bool:
    state = httpx.get(f"{url}/ui/state", params={"user": "U0ALICE"}, timeout=10).json()
    return "Pattern engine" in json.dumps(state) or "Claude (" in json.dumps(state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="opsbot-fresh-"))
    marks: dict[str, float] = {}
    start = time.monotonic()
    subprocess.run(["git", "clone", "-q", args.repo, str(folder / "opsbot")], check=True)
    marks["clone"] = time.monotonic() - start
    page, bot = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPSBOT_", "SLACK_"))}
    process = subprocess.Popen(
        ["bash", "scripts/dev.sh", "--port", str(page), "--bot-port", str(bot)],
        cwd=folder / "opsbot",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**env, "COLUMNS": "200", "VIRTUAL_ENV": ""},
        start_new_session=True,
    )
    url: str | None = None
    seen = threading.Event()

    def read() -> None:
        nonlocal url
        assert process.stdout is not None
        for line in process.stdout:
            now = time.monotonic() - start
            if "installing opsbot" in line:
                marks["venv created"] = now
            if "loading the sandbox shop" in line:
                marks["installed (pip done)"] = now
            found = re.search(r"workspace: (http://\S+)", line)
            if found:
                url = found.group(1)
                marks["URL printed"] = now
                seen.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not seen.wait(timeout=1800):
            raise SystemExit("no URL within 30 minutes")
        assert url is not None
        while True:  # the bot listens a moment after the URL is printed
            try:
                if httpx.get(f"http://127.0.0.1:{bot}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        asked = time.monotonic()
        httpx.post(
            f"{url}/ui/send",
            json={"user": "U0ALICE", "channel": "incidents", "text": QUESTION},
            timeout=60,
        )
        while not answered(url):
            time.sleep(0.5)
        marks["first /ask-ai answered"] = time.monotonic() - start
        marks["(question → answer)"] = time.monotonic() - asked
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    for name, at in marks.items():
        print(f"{name:28s} {at:8.1f} s")


if __name__ == "__main__":
    main()
