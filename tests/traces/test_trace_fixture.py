"""Trace analysis on the Jaeger converter fixture and its edge cases."""

from __future__ import annotations

import json
from pathlib import Path

from bot.analysis.traces import analyse_trace, build_tree, parse_trace
from bot.analysis.traces.model import Trace

FIXTURE = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "fixtures"
    / "jaeger"
    / "ui-trace-example.json"
)


def _fixture() -> Trace:
    return parse_trace(json.loads(FIXTURE.read_text(encoding="utf-8")))


def test_duplicate_span_ids_are_kept_apart_and_the_copy_hangs_under_the_first() -> None:
    tree = build_tree(_fixture())
    assert sorted(tree.nodes) == ["2", "2~1", "3", "4", "5"]
    copy = tree.nodes["2~1"]
    assert copy.operation == "some-operation"
    assert copy.parent is tree.nodes["2"]
    assert tree.nodes["3"].parent is tree.nodes["2"]
    assert [r.uid for r in tree.roots] == ["2"]
    assert "duplicate span id 2: copy renamed 2~1" in tree.warnings


def test_a_reference_outside_the_trace_is_ignored_and_child_of_wins_over_follows_from() -> None:
    tree = build_tree(_fixture())
    span4 = tree.nodes["4"]
    assert span4.parent is tree.nodes["2"]
    assert span4.ref_type == "CHILD_OF"
    assert tree.nodes["5"].parent is span4
    assert any("00000000000000ff/ff outside the trace" in w for w in tree.warnings)


def test_processes_give_each_span_its_service_and_warnings_are_carried() -> None:
    tree = build_tree(_fixture())
    services = {uid: node.service for uid, node in tree.nodes.items()}
    assert services == {
        "2": "service-x",
        "2~1": "service-x",
        "3": "service-y",
        "4": "service-y",
        "5": "service-y",
    }
    assert "some trace warning" in tree.warnings
    assert "span 4: some span warning" in tree.warnings


def test_the_fixture_analysis_is_complete_and_consistent() -> None:
    analysis = analyse_trace(_fixture())
    assert analysis.trace_id == "0000000000000001"
    assert (analysis.span_count, analysis.duration_us) == (5, 5)
    assert analysis.services == ["service-x", "service-y"]
    assert sum(s.duration_us for s in analysis.critical_path) == 5
    assert analysis.bottleneck is not None
    assert analysis.bottleneck.service == "service-y"
    assert [(e.span.span_id, e.reasons) for e in analysis.errors] == [("2~1", ["error=true"])]
    assert analysis.n_plus_one == []
    payload = json.loads(analysis.model_dump_json())
    assert payload["errors"][0]["span"]["operation"] == "some-operation"


def test_tags_keep_their_jaeger_types() -> None:
    span = next(s for s in _fixture().spans if s.tags)
    assert span.tag("peer.ipv4") == 23456
    assert span.tag("temperature") == 72.5
    assert span.tag("error") is True
    assert span.tag("missing") is None
