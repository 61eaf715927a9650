"""A recorded pack survives its documented on-disk shape unchanged, hostile text included."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.investigation.recorded import (
    LogRecord,
    RecordedPack,
    read_pack,
    workload_of_pod,
    write_pack,
)
from tests.investigation.builders import pack


def test_a_pack_written_to_disk_reads_back_the_same(tmp_path: Path) -> None:
    original = pack(failing=True)
    write_pack(original, tmp_path / "p")
    again = read_pack(tmp_path / "p")
    assert sorted(again.spans, key=lambda s: s.span_id) == sorted(
        original.spans, key=lambda s: s.span_id
    )
    assert again.logs == original.logs
    assert again.samples == original.samples
    assert again.truth == original.truth
    assert (again.window, again.baseline) == (original.window, original.baseline)


def test_traces_are_written_in_the_jaeger_query_model(tmp_path: Path) -> None:
    write_pack(pack(), tmp_path / "p")
    doc = json.loads((tmp_path / "p" / "traces.json").read_text())
    trace = doc["data"][0]
    span = trace["spans"][0]
    assert {"traceID", "spanID", "operationName", "references", "startTime", "duration"} <= set(
        span
    )
    assert trace["processes"][span["processID"]]["serviceName"] in ("web", "stock")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=st.text(max_size=200))
def test_hostile_log_text_is_kept_verbatim(tmp_path: Path, message: str) -> None:
    original = RecordedPack("h", "test", (2.0, 3.0), (0.0, 1.0))
    original.logs = [LogRecord(1.0, "web", "web-1", "INFO", message, trace_id=message)]
    write_pack(original, tmp_path / "h")
    assert read_pack(tmp_path / "h").logs == original.logs


def test_a_pod_name_gives_its_workload() -> None:
    assert workload_of_pod("ts-basic-service-5dc8d4f9fd-46997") == "ts-basic-service"
    assert workload_of_pod("redis-0x7kq") == "redis"
    assert workload_of_pod("db-0") == "db"
    assert workload_of_pod("web") == "web"
