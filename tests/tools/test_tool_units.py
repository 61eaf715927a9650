"""Quantities print in the units Kubernetes compares them with (binary for bytes)."""

from __future__ import annotations

from tools.metrics.series import describe, summarise
from tools.units import format_bytes, format_quantity, format_seconds, unit_of


def test_bytes_print_with_binary_prefixes_like_kubernetes_limits() -> None:
    assert format_bytes(792_723_456) == "756Mi"  # SI would say 793M, "over" a 768Mi limit
    assert format_bytes(768 * 2**20) == "768Mi"
    assert format_bytes(1.5 * 2**30) == "1.5Gi"
    assert format_bytes(3 * 2**40) == "3Ti"
    assert format_bytes(2048) == "2Ki"
    assert format_bytes(512) == "512B"
    assert format_bytes(-4 * 2**20) == "-4Mi"
    assert format_bytes(None) == "n/a"


def test_seconds_print_with_their_unit() -> None:
    assert format_seconds(0.25) == "0.25s"
    assert format_seconds(None) == "n/a"


def test_the_unit_comes_from_the_metric_names_suffix() -> None:
    assert unit_of("container_memory_working_set_bytes") == "bytes"
    assert unit_of("node_network_receive_bytes_total") == "bytes"
    assert unit_of("http_request_duration_seconds") == "seconds"
    assert unit_of("container_cpu_usage_seconds_total") == "seconds"
    assert unit_of("kube_pod_container_status_restarts_total") == "none"
    assert format_quantity(25300, "none") == "25.3k"


def test_a_memory_series_summary_reads_in_mi_next_to_its_limit() -> None:
    labels = {"__name__": "container_memory_working_set_bytes", "pod": "payments-1"}
    values = [[1_700_000_000 + 60 * i, str(700 * 2**20 + i * 2**20)] for i in range(57)]
    line = describe(summarise(labels, values))
    assert "max=756Mi" in line
    assert "M " not in line.replace("Mi", "")
