"""`opsbot policy explain` for kinds that take params (set_resources, scale_deployment)
works without them (rules that read them match any value) and checks them when given as
`--param key=value` (or `key=value` words after the target in Slack)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policies import ActionKind, PolicyInputError, load_policy, parse_target
from policies.decision import EvaluationContext, Verdict
from policies.evaluate import evaluate
from policies.explain_input import explained_action, parse_params

SITE = "version: 1\ndefaults:\n  approvers: [S0ONCALL]\n"


def opsbot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, check=False
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(SITE)
    return path


def test_explain_set_resources_and_scale_without_params_prints_the_decision(site: Path) -> None:
    for kind in ("set_resources", "scale_deployment"):
        result = opsbot("policy", "explain", kind, "deployment/prod/payments", "--file", str(site))
        assert result.returncode == 0, result.stderr
        assert "Verdict: RISKY" in result.stdout
        assert "Params: none given" in result.stdout


def test_a_param_given_is_checked_by_the_rules_that_read_it(site: Path) -> None:
    within = opsbot(
        "policy", "explain", "scale_deployment", "deployment/prod/payments",
        "--param", "replicas=4", "--file", str(site),
    )  # fmt: skip
    assert within.returncode == 0, within.stderr
    assert "replicas=4" in within.stdout
    assert "Verdict: RISKY (rule scale-prod)" in within.stdout
    assert "Params: none given" not in within.stdout
    beyond = opsbot(
        "policy", "explain", "scale_deployment", "deployment/prod/payments",
        "--param", "replicas=60", "--file", str(site),
    )  # fmt: skip
    assert "60 replicas exceeds max_replicas 50" in beyond.stdout
    assert "Verdict: FORBIDDEN" in beyond.stdout


def test_bad_params_and_wrong_targets_are_input_errors_not_tracebacks() -> None:
    bad = opsbot(
        "policy", "explain", "scale_deployment", "deployment/prod/payments", "--param", "replicas=x"
    )
    assert bad.returncode == 2
    assert "bad params for scale_deployment: replicas" in bad.stderr
    assert "Traceback" not in bad.stderr
    with pytest.raises(PolicyInputError, match="expected key=value"):
        parse_params(["replicas"])
    with pytest.raises(PolicyInputError, match="targets a deployment, not a node"):
        explained_action(ActionKind.SCALE_DEPLOYMENT, parse_target("node/worker-1"))
    with pytest.raises(PolicyInputError, match="memory_request"):
        explained_action(
            ActionKind.SET_RESOURCES,
            parse_target("deployment/prod/payments"),
            {"container": "app", "memory_request": "lots"},
        )


def test_unknown_params_evaluate_like_any_value_of_them(site: Path) -> None:
    policy = load_policy([str(site)])
    target = parse_target("deployment/staging/report")
    context = EvaluationContext(now=datetime.now(UTC))
    unknown = explained_action(ActionKind.SCALE_DEPLOYMENT, target)
    assert unknown.params_unknown
    assert unknown.action.requested_replicas is None
    assert evaluate(unknown.action, context, policy).verdict is Verdict.SAFE
    known = explained_action(ActionKind.SCALE_DEPLOYMENT, target, {"replicas": "30"})
    assert not known.params_unknown
    assert evaluate(known.action, context, policy).verdict is not Verdict.SAFE  # above 20
    resources = explained_action(
        ActionKind.SET_RESOURCES, target, parse_params(["container=app", "cpu_request=100m"])
    )
    assert resources.action.params.model_dump()["cpu_request"] == "100m"
