"""The pattern engine over real backends: each corner of the test world names its root cause
and proposes the matching action (no model involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.investigation.agent.finding import Engine
from bot.investigation.agent.request import Workflow
from sandbox.kube import KubeSandbox
from tests.agent.conftest import Backends
from tests.agent.helpers import incident, investigator, question, settings_for

CASES = [
    # namespace, service, rule, action kind, target, params
    ("prod", "payments", "oom-kill", "restart_deployment", "deployment/prod/payments", {}),
    (
        "prod",
        "checkout",
        "deploy-regression",
        "rollback_deployment",
        "deployment/prod/checkout",
        {"to_revision": None},
    ),
    (
        "staging",
        "checkout",
        "bad-image",
        "rollback_deployment",
        "deployment/staging/checkout",
        {"to_revision": None},
    ),
    (
        "staging",
        "payments",
        "cpu-throttling",
        "scale_deployment",
        "deployment/staging/payments",
        {"replicas": 2, "previous_replicas": 1},
    ),
    ("data", "orders", "db-connection-pool", "restart_deployment", "deployment/data/orders", {}),
    (
        "billing",
        None,
        "disk-filling",
        "expand_volume",
        "persistentvolumeclaim/billing/ledger-data",
        {"new_size": "20Gi"},
    ),
]


@pytest.mark.parametrize(("namespace", "service", "rule", "kind", "target", "params"), CASES)
def test_the_pattern_engine_names_the_root_cause_and_proposes_the_matching_action(
    backends: Backends,
    tmp_path: Path,
    namespace: str,
    service: str | None,
    rule: str,
    kind: str,
    target: str,
    params: dict[str, object],
) -> None:
    settings = settings_for(
        tmp_path / "db.sqlite",
        kubeconfig=backends.kubeconfig,
        prometheus=backends.prometheus,
        logs=backends.logs,
        jaeger=backends.jaeger,
    )
    with investigator(settings) as (inv, _):
        answer = inv.investigate(incident(namespace, service))
    finding = answer.finding
    assert answer.engine is Engine.PATTERN
    assert answer.fallback_reason == "no Anthropic API key is configured"
    assert finding.rule == rule, finding.summary
    assert [(p.kind.value, str(p.target)) for p in finding.proposals] == [(kind, target)]
    assert finding.proposals[0].params.model_dump() == params
    assert finding.proposals[0].proposer == "agent"
    assert finding.evidence, "every finding cites the tool calls it relied on"


def test_a_deploy_regression_reports_when_the_error_ratio_changed(
    backends: Backends, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path / "db.sqlite", kubeconfig=backends.kubeconfig, prometheus=backends.prometheus
    )
    with investigator(settings) as (inv, _):
        finding = inv.investigate(incident("prod", "checkout")).finding
    change = next(c for c in finding.changes if c.series == "error_ratio")
    assert change.before < 0.02 < 0.15 < change.after
    assert "1.9.0" in finding.root_cause


def test_expired_certificates_in_a_services_logs_are_named_without_an_executable_action(
    backends: Backends, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path / "db.sqlite", logs=backends.logs)
    with investigator(settings) as (inv, _):
        finding = inv.investigate(incident("edge", "gateway")).finding
    assert finding.rule == "certificate-expiry"
    assert finding.proposals == []
    assert any("Renew" in r for r in finding.recommendations)


def test_a_slow_dependency_is_found_in_the_traces(backends: Backends, tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "db.sqlite", jaeger=backends.jaeger)
    with investigator(settings) as (inv, _):
        finding = inv.investigate(incident("edge", "checkout")).finding
    assert finding.rule == "slow-dependency"
    assert "payments" in finding.summary


def test_a_node_that_stopped_reporting_is_cordoned(node_kube: KubeSandbox, tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path / "db.sqlite", kubeconfig=node_kube.write_kubeconfig(tmp_path / "kubeconfig")
    )
    with investigator(settings) as (inv, _):
        finding = inv.investigate(incident("default", None, "KubeNodeNotReady")).finding
    assert finding.rule == "node-problem"
    assert [(p.kind.value, str(p.target)) for p in finding.proposals] == [
        ("cordon_node", "node/node-3")
    ]


def test_a_natural_language_log_question_runs_a_real_log_query_and_shows_it(
    backends: Backends, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path / "db.sqlite", logs=backends.logs)
    with investigator(settings) as (inv, _):
        answer = inv.investigate(
            question("show me all connection errors in the last hour", Workflow.LOG_QUERY)
        )
    assert answer.finding.rule == "log-query"
    assert answer.finding.summary.startswith("90 log lines match")
    query = answer.finding.evidence[0].query
    assert '"connection"' in query
    assert '"error"' in query
    assert "now" not in query
