"""Localisation names the service whose own behaviour changed, and the kind of change."""

from __future__ import annotations

from bot.investigation.finding import finding_of
from bot.investigation.localise import WEIGHTS, change_shifts, localise, localise_shifts
from tests.investigation.builders import pack


def test_a_failing_callee_is_named_before_the_caller_that_logs_its_errors() -> None:
    found = localise(pack(failing=True))
    assert found.services[0] == "stock"
    assert found.kind == "error"


def test_a_callee_whose_own_time_grew_is_named_with_a_latency_fault() -> None:
    found = localise(pack(slow=True))
    assert found.services[0] == "stock"
    assert found.kind == "latency"


def test_a_pod_whose_cpu_stays_far_above_its_history_is_named_with_a_cpu_fault() -> None:
    found = localise(pack(cpu=True))
    assert found.services[0] == "stock"
    assert found.kind == "cpu"


def test_the_finding_keeps_the_evidence_of_the_top_service() -> None:
    found = localise(pack(failing=True))
    assert any("IllegalStateException" in shift.what for shift in found.evidence)


def test_a_service_whose_network_delays_its_calls_in_and_out_is_named_with_a_latency_fault() -> (
    None
):
    found = localise(pack(wire=True))
    assert found.services[0] == "stock"
    assert found.kind == "latency"


def test_the_finding_names_the_service_the_kind_and_the_log_template_that_appeared() -> None:
    finding = finding_of(localise(pack(failing=True)))
    assert finding.summary.startswith("stock raises errors")
    assert any("IllegalStateException" in e.excerpt for e in finding.evidence)
    assert 0.1 <= finding.confidence <= 0.95


def test_weights_given_to_localisation_replace_its_defaults_so_a_zero_weight_counts_nothing() -> (
    None
):
    slow = pack(slow=True)
    periods, shifts = change_shifts(slow)
    assert localise_shifts(slow, periods, shifts).services == localise(slow).services
    muted = dict.fromkeys(WEIGHTS, 0.0)
    found = localise_shifts(slow, periods, shifts, muted)
    assert all(entry.score == 0.0 for entry in found.ranked)


def test_a_service_whose_handler_stops_halfway_without_an_error_is_named_with_an_error_fault() -> (
    None
):
    found = localise(pack(broken=True))
    assert found.services[0] == "stock"
    assert found.kind == "error"
    assert any("no longer follows" in shift.what for shift in found.evidence)


def test_a_caller_that_fails_in_the_same_requests_as_its_callee_is_ranked_after_it() -> None:
    found = localise(pack(failing=True))
    assert found.services[:2] == ["stock", "web"]
