"""Shared fixtures: real PostgreSQL and Redis next to the embedded defaults."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from bot.cache import Cache, MemoryCache, RedisCache
from bot.settings import DatabaseSettings
from bot.store.db import Database
from sandbox.slack.workspace import SlackWorkspace
from tests.botharness import RunningBot, running_bot, workspace

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's OPSBOT_/SLACK_/ANTHROPIC_ variables or .env file."""
    for name in list(os.environ):
        if name.startswith(("OPSBOT_", "SLACK_", "ANTHROPIC_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def fresh_pg_url() -> str:
    """A new empty database per call (for tests that need a clean schema)."""
    name = f"opsbot_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_pg(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each supported kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'opsbot.db'}"
        return
    url = fresh_pg_url()
    yield url
    drop_pg(url)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(DatabaseSettings(url=database_url))
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    prefix = f"opsbot-test:{uuid.uuid4().hex[:8]}:"
    yield RedisCache(REDIS_URL, prefix)
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def slack() -> Iterator[SlackWorkspace]:
    """The local Slack workspace (Web API emulator + signed delivery)."""
    ws = workspace()
    yield ws
    ws.close()


@pytest.fixture
def bot(slack: SlackWorkspace, tmp_path: Path) -> Iterator[RunningBot]:
    """The bot on embedded defaults (SQLite, memory cache), connected to `slack`."""
    with running_bot(slack, database_url=f"sqlite:///{tmp_path / 'bot.db'}") as running:
        yield running


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `condition` until it is truthy; raise TimeoutError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)
