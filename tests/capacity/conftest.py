"""One Prometheus with the capacity history at CAPACITY_NOW, shared by every module that only
reads it (starting one costs a backfill of 1.3 M samples)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.capacity import start_capacity_prometheus
from sandbox.procs.prometheus import PrometheusProcess
from tests.capacity.capacity_prometheus import CAPACITY_NOW


@pytest.fixture(scope="session")
def capacity_prometheus() -> Iterator[PrometheusProcess]:
    with start_capacity_prometheus(CAPACITY_NOW) as server:
        yield server
