"""Scenario folders are complete and consistent, checked without starting any server."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from policies.actions import ActionKind, ResourceKind, ResourceRef
from sandbox.kube import KubeSandbox
from sandbox.scenarios import Timeline, load_scenario, play_cluster, render, scenario_names
from sandbox.scenarios.alert_templates import TemplateError, expand, humanize_duration
from sandbox.scenarios.catalog import ScenarioError, cluster_seed
from sandbox.scenarios.effects import EffectBook
from sandbox.scenarios.spec import Effect
from sandbox.scenarios.traces import build_pattern

REQUIRED = {
    "oom-kill",
    "bad-image",
    "deploy-error-rate",
    "db-connection-pool",
    "cpu-throttling",
    "node-not-ready",
    "slow-dependency",
    "disk-filling",
}


def test_the_eight_required_scenarios_ship() -> None:
    assert set(scenario_names()) >= REQUIRED


@pytest.mark.parametrize("name", scenario_names())
def test_expected_remediation_is_an_action_kind_with_a_valid_target(name: str) -> None:
    expected = load_scenario(name).expected
    for remedy in [expected.remediation, *expected.also_acceptable]:
        assert ActionKind(remedy.kind)
        target = remedy.target
        ResourceRef(kind=ResourceKind(target.kind), namespace=target.namespace, name=target.name)
    assert expected.root_cause.keywords


@pytest.mark.parametrize("name", scenario_names())
def test_every_alert_rule_has_a_summary_a_runbook_and_renderable_annotations(name: str) -> None:
    scenario = load_scenario(name)
    for rule in scenario.rules():
        annotations = rule["annotations"]
        assert {"summary", "description", "runbook_url"} <= set(annotations), rule["alert"]
        assert annotations["runbook_url"].startswith("https://")
        labels = {"namespace": "prod", "pod": "p", "node": "n", "service": "s"}
        for text in annotations.values():
            assert "{{" not in expand(text, labels, 0.42)
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}


@pytest.mark.parametrize("name", scenario_names())
def test_trace_patterns_build_and_log_bursts_name_known_services(name: str) -> None:
    spec = load_scenario(name).spec
    for pattern in spec.traces.patterns:
        build_pattern(pattern)
    known = {"frontend", "checkout", "inventory", "payments", "postgres"}
    assert {burst.service for burst in spec.logs} <= known


def test_a_missing_scenario_is_an_error_that_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match="oom-kill"):
        load_scenario("no-such-scenario")


def test_templates_render_like_prometheus_and_refuse_what_they_do_not_know() -> None:
    labels = {"pod": "payments-7d9c-x2k4p"}
    assert expand("{{ $labels.pod }}: {{ $value | humanizePercentage }}", labels, 0.1234) == (
        "payments-7d9c-x2k4p: 12.34%"
    )
    assert expand('{{ printf "%.2f" $value }} / {{ $value | humanize }}', {}, 12345.0) == (
        "12345.00 / 12.35k"
    )
    assert humanize_duration(0.25) == "250ms"
    assert humanize_duration(3725) == "1h 2m 5s"
    with pytest.raises(TemplateError):
        expand("{{ range $labels }}x{{ end }}", {}, 0)


def test_effects_ramp_in_from_the_incident_start() -> None:
    book = EffectBook([Effect(kind="errors", service="checkout", ratio=0.2, ramp=100)], 1000.0)
    assert book.errors("checkout", "POST /checkout", 999.0) == {}
    assert book.errors("checkout", "POST /checkout", 1050.0) == {"500": pytest.approx(0.1)}
    assert book.errors("checkout", "POST /checkout", 5000.0) == {"500": pytest.approx(0.2)}
    assert book.errors("payments", "POST /charge", 5000.0) == {}


def test_generation_is_deterministic_for_a_given_moment(tmp_path: Path) -> None:
    scenario = load_scenario("cpu-throttling")
    timeline = Timeline.ending_now(incident_ago=1200, history=3600, step=60, now=1_800_000_000)
    outputs = []
    for run in ("a", "b"):
        with KubeSandbox(None, auto_advance=False) as kube:
            history = play_cluster(kube, scenario, timeline)
        rendered = render(scenario, history, timeline, tmp_path / run)
        outputs.append((rendered.metrics_file.read_text(), rendered.logs, rendered.traces))
    assert outputs[0] == outputs[1]
    assert 'pod="inventory-' in outputs[0][0]


def test_a_packs_objects_are_added_to_the_base_and_replace_the_same_kind_and_name(
    tmp_path: Path,
) -> None:
    base = {
        "objects": [
            {"kind": "ConfigMap", "metadata": {"name": "shared", "namespace": "prod"}},
            {"kind": "Secret", "metadata": {"name": "shared", "namespace": "prod"}},
        ]
    }
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    own = {
        "extends": "base.yaml",
        "objects": [
            {"kind": "Secret", "metadata": {"name": "shared", "namespace": "prod"}, "type": "x"},
            {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "a", "namespace": "prod"}},
        ],
        "autoscale": [{"hpa": "a", "utilization": 150}],
    }
    seed = cluster_seed(own, tmp_path)
    kinds = [(o["kind"], o.get("type")) for o in seed["objects"]]
    assert kinds == [("ConfigMap", None), ("Secret", "x"), ("HorizontalPodAutoscaler", None)]
    assert "autoscale" not in seed


def test_the_hpa_pack_rescales_checkout_to_its_max_and_reports_it_limited() -> None:
    scenario = load_scenario("hpa-at-max-replicas")
    with KubeSandbox(auto_advance=False) as kube:
        timeline = Timeline.ending_now(
            incident_ago=scenario.spec.incident.started_ago, history=3600, horizon=0
        )
        history = play_cluster(kube, scenario, timeline)
    hpa = next(h for h in history.last.autoscalers if h.name == "checkout")
    assert (hpa.current_replicas, hpa.max_replicas) == (4, 4)
    assert ("ScalingLimited", "True") in hpa.conditions
    checkout = next(d for d in history.last.deployments if d.name == "checkout")
    assert checkout.replicas == 4
    assert next(h for h in history.frames[0].autoscalers).current_replicas == 3


def test_postgres_exporter_reports_pg_up_0_while_the_database_container_is_down(
    tmp_path: Path,
) -> None:
    root = Path(__file__).parents[2] / "sandbox" / "heldout" / "round6"
    scenario = load_scenario("postgres-16-image-on-15-data", root)
    timeline = Timeline.ending_now(incident_ago=1200, history=3600, step=60, now=1_800_000_000)
    with KubeSandbox(None, auto_advance=False) as kube:
        history = play_cluster(kube, scenario, timeline)
    text = render(scenario, history, timeline, tmp_path).metrics_file.read_text()
    up = [line.rsplit(" ", 2) for line in text.splitlines() if line.startswith("pg_up{")]
    before = {float(v) for _, v, at in up if int(float(at)) < timeline.incident}
    assert before == {1.0}
    newest = max(up, key=lambda row: float(row[2]))
    assert float(newest[1]) == 0.0, newest  # the sidecar answers while postgres crash-loops
    assert not any(
        line.startswith("pg_stat_database_xact_commit{") and line.endswith(f" {timeline.now}")
        for line in text.splitlines()
    )
