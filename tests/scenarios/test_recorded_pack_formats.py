"""A recorded pack's files become the sandbox backends' own formats, moved in time."""

from __future__ import annotations

from pathlib import Path

from bot.investigation.recorded import LogRecord, RecordedPack, Sample, Span, write_pack
from sandbox.world.recorded import Recording, kube_seed, log_document, openmetrics_text


def _written(tmp_path: Path) -> Recording:
    pack = RecordedPack(
        name="p",
        source="test",
        window=(100.0, 200.0),
        baseline=(0.0, 90.0),
        spans=[Span("ab12", "cd34", None, "web", "web-5d9f7c6b8d-x2k4q", "GET /", 150.0, 12.0)],
        logs=[LogRecord(150.5, "web", "web-5d9f7c6b8d-x2k4q", "ERROR", "boom", "ab12", "cd34")],
        samples=[
            Sample(60.0, "web-5d9f7c6b8d-x2k4q", "CpuUsageRate(%)", 3.5),
            Sample(60.0, "web-5d9f7c6b8d-x2k4q", "CpuUsageRate(%)", 3.5),
            Sample(180.0, "web-5d9f7c6b8d-x2k4q", "CpuUsageRate(%)", 9.0),
        ],
        objects=[
            {"kind": "Deployment", "metadata": {"name": "web"}},
            {"kind": "Pod", "metadata": {"name": "web-5d9f7c6b8d-x2k4q"}},
        ],
        alerts=[{"labels": {"alertname": "A"}, "startsAt": "1970-01-01T00:01:40Z"}],
    )
    write_pack(pack, tmp_path)
    return Recording.read(tmp_path)


def test_moving_a_recording_moves_spans_logs_samples_and_alerts_alike(tmp_path: Path) -> None:
    recording = _written(tmp_path)
    assert recording.latest() == 180.0
    moved = recording.moved(1000.0)
    assert moved.latest() == 1180.0
    assert moved.traces[0]["spans"][0]["startTime"] == 1_150_000_000
    assert moved.logs[0]["timestamp"] == 1150.5
    assert moved.alerts[0]["startsAt"] == "1970-01-01T00:18:20.000000Z"


def test_samples_become_one_gauge_family_per_metric_without_repeated_moments(
    tmp_path: Path,
) -> None:
    text = openmetrics_text(_written(tmp_path).samples)
    assert text.splitlines() == [
        "# TYPE CpuUsageRate_ gauge",
        'CpuUsageRate_{namespace="default",pod="web-5d9f7c6b8d-x2k4q"} 3.5 60.000',
        'CpuUsageRate_{namespace="default",pod="web-5d9f7c6b8d-x2k4q"} 9.0 180.000',
        "# EOF",
    ]


def test_log_lines_keep_their_trace_and_span_and_pods_are_left_to_the_controllers(
    tmp_path: Path,
) -> None:
    recording = _written(tmp_path)
    doc = log_document(recording.logs[0])
    assert doc["trace"] == {"id": "ab12"}
    assert doc["span"] == {"id": "cd34"}
    assert doc["kubernetes"]["pod"]["name"] == "web-5d9f7c6b8d-x2k4q"
    assert [o["kind"] for o in kube_seed(recording.objects)["objects"]] == ["Deployment"]
