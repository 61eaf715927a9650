"""Fixtures of the hardening suite: a private PostgreSQL cluster a test may restart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hardening.private_postgres import PrivatePostgres


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL cluster, running; torn down (data deleted) after the test."""
    server = PrivatePostgres().init()
    try:
        server.start()
        yield server
    finally:
        server.destroy()
