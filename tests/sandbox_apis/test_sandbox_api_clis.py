"""`python -m sandbox.jaeger` and `python -m sandbox.claude` serve what they are given."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anthropic
import httpx

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT.parent / "shared" / "fixtures" / "jaeger" / "ui-trace-example.json"


@contextmanager
def serving(*args: str) -> Iterator[str]:
    """Start a sandbox CLI on a free port; yield the URL from its first output line."""
    process = subprocess.Popen(
        [sys.executable, "-m", *args, "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, process.stderr.read() if process.stderr else "no output"
        yield next(word for word in line.split() if word.startswith("http://"))
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_jaeger_cli_serves_loaded_and_generated_traces() -> None:
    with (
        serving(
            "sandbox.jaeger", "--traces", str(FIXTURE), "--rebase-now", "--generate", "3",
            "--pattern", "errors", "--seed", "4",
        ) as url,
        httpx.Client(base_url=url) as client,
    ):  # fmt: skip
        services = client.get("/api/services").json()["data"]
        assert services == [
            "checkout",
            "frontend",
            "inventory",
            "payments",
            "service-x",
            "service-y",
        ]
        found = client.get("/api/traces", params={"service": "service-x"}).json()["data"]
        assert [trace["traceID"] for trace in found] == ["0000000000000001"]
        failing = client.get(
            "/api/traces", params={"service": "payments", "tags": '{"error":"true"}'}
        ).json()["data"]
        assert len(failing) == 3


def test_claude_cli_replays_a_script_file(tmp_path: Path) -> None:
    script = tmp_path / "hello.yaml"
    script.write_text("name: hello\nturns:\n  - text: Hello from the script.\n")
    with serving("sandbox.claude", "--script", str(script), "--api-key", "cli-key") as url:
        client = anthropic.Anthropic(base_url=url, api_key="cli-key", max_retries=0)
        message = client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=32,
            messages=[{"role": "user", "content": "hi"}],
        )
        client.close()
    assert message.content[0].type == "text"
    assert message.content[0].text == "Hello from the script."
