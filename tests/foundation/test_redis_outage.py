"""Redis killed mid-run: the bot keeps answering Slack and accepting alerts, /readyz says
the cache is down, and everything recovers when Redis comes back."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import redis

from sandbox.procs.process import free_port
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import running_bot
from tests.incidents.amfixtures import alert, webhook


class RedisServer:
    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.kill()


def ready(url: str) -> httpx.Response:
    return httpx.get(f"{url}/readyz", timeout=5)


def test_the_bot_keeps_working_while_redis_is_down_and_recovers(
    slack: SlackWorkspace, own_redis: RedisServer, tmp_path: Path
) -> None:
    with running_bot(
        slack,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        cache={"url": f"redis://127.0.0.1:{own_redis.port}/0"},
    ) as bot:
        assert ready(bot.url).status_code == 200
        own_redis.kill()
        assert slack.slash_command("U0ALICE", "incidents", "/ask-ai", "help").ok
        body = webhook(
            alert(
                "HighErrorRate",
                datetime.now(UTC),
                namespace="prod",
                service="checkout",
                severity="critical",
            )
        )
        response = httpx.post(
            f"{bot.url}/alertmanager",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200
        slack.wait_for(
            lambda: [m for m in slack.messages("incidents") if m.get("bot_id")], timeout=15
        )
        degraded = ready(bot.url)
        assert degraded.status_code == 503
        assert degraded.json()["checks"]["cache"] == "down"
        own_redis.start()
        deadline = time.monotonic() + 15
        while ready(bot.url).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ready(bot.url).status_code == 200
        assert slack.slash_command("U0BOB", "incidents", "/ask-ai", "help").ok
