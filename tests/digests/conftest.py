"""Real backends for the digest tests, started once per session: osmem-server (the
OpenSearch API) with bulk-loaded shop logs, and the Jaeger query stand-in with generated
traces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sandbox.jaeger import TraceStore, create_app
from sandbox.procs import OpenSearchProcess, start_opensearch
from sandbox.serve import ServerThread
from tests.digests.backends import LOG_INDEX, LOG_MAPPINGS, hour_floor, shop_logs, shop_traces


@pytest.fixture(scope="session")
def digest_end() -> datetime:
    """The top of the current hour: the hourly log digest reports on the hour before it."""
    return hour_floor(datetime.now(UTC))


@pytest.fixture(scope="session")
def shop_log_store(digest_end: datetime) -> Iterator[OpenSearchProcess]:
    with start_opensearch() as server:
        server.create_index(LOG_INDEX, LOG_MAPPINGS)
        server.bulk_index(LOG_INDEX, shop_logs(digest_end))
        yield server


@pytest.fixture(scope="session")
def shop_jaeger() -> Iterator[ServerThread]:
    with ServerThread(create_app(TraceStore(shop_traces(datetime.now(UTC))))) as server:
        yield server
