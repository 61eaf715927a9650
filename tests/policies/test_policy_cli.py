from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def opsbot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, check=False
    )


def test_policy_explain_prints_the_decision_and_the_rule_that_made_it(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("version: 1\ndefaults:\n  approvers: [S0ONCALL]\n")
    result = opsbot(
        "policy", "explain", "restart_deployment", "deployment/prod/checkout", "--file", str(site)
    )
    assert result.returncode == 0, result.stderr
    assert "restart-prod" in result.stdout
    assert "Verdict: RISKY (rule restart-prod)" in result.stdout


def test_policy_explain_suggests_the_kind_meant(tmp_path: Path) -> None:
    result = opsbot("policy", "explain", "restart-deploy", "deployment/prod/checkout")
    assert result.returncode == 2
    assert "did you mean restart_deployment" in result.stderr


def test_policy_check_reports_problems_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "prod.yaml"
    bad.write_text(
        "version: 1\ndefaults:\n  approvers: [S0ONCALL]\nrules:\n"
        "  - name: scale-prod\n    match: {kinds: [scale_deploy]}\n    verdict: RISKY\n"
    )
    result = opsbot("policy", "check", str(bad))
    assert result.returncode == 1
    assert f"{bad.name}:6:" in result.stderr
    assert "scale_deployment" in result.stderr
