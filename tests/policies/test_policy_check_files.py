"""check_policy_files / load_policy: problems reported with file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from policies import PolicyLoadError, PolicyProblem, check_policy_files, load_policy

PolicyWriter = Callable[..., Path]


def problems_in(path: Path, *, include_defaults: bool = True) -> list[str]:
    """The problems as `opsbot policy check` prints them, with the temp folder cut off."""
    problems = check_policy_files([path], include_defaults=include_defaults)
    return [str(p).replace(f"{path.parent}/", "") for p in problems]


def test_policy_check_reports_unknown_kind_with_line_number(write_policy: PolicyWriter) -> None:
    path = write_policy(
        """
        defaults: {approvers: [S0ONCALL]}
        rules:
          - name: scale-prod
            match:
              namespaces: [prod]
              kinds: [scale_deploy]
            verdict: RISKY
        """,
        name="prod.yaml",
    )
    assert problems_in(path) == [
        "prod.yaml:6: rule 'scale-prod': unknown action kind 'scale_deploy' "
        "(did you mean scale_deployment?)"
    ]


def test_policy_check_reports_unknown_keys_with_a_suggestion(write_policy: PolicyWriter) -> None:
    path = write_policy(
        """
        rules:
          - name: small
            match:
              kinds: [delete_pod]
              max_pod: 1
            verdict: SAFE
            aprovers: [U0ALICE]
        colour: blue
        """
    )
    assert problems_in(path) == [
        "site.yaml:5: rule 'small': unknown key 'max_pod' (did you mean max_pods?)",
        "site.yaml:7: rule 'small': unknown key 'aprovers' (did you mean approvers?)",
        "site.yaml:8: unknown key 'colour'",
    ]


def test_policy_check_reports_bad_values_on_their_lines(write_policy: PolicyWriter) -> None:
    path = write_policy(
        """
        mode: supervisd
        defaults:
          approvers: [S0ONCALL, alice]
          approval_expiry: 15x
        rules:
          - name: r1
            match: {namespaces: ["prod-*", "Prod_[x"], max_share: 1.5}
            verdict: risky
            approvals_required: 3
          - name: r2
            match: {kinds: []}
        """
    )
    assert problems_in(path) == [
        "site.yaml:1: unknown mode 'supervisd' (did you mean supervised?)",
        "site.yaml:3: defaults.approvers[1]: approver 'alice' is not a Slack user id (U…/W…) "
        "or usergroup id (S…)",
        "site.yaml:4: defaults.approval_expiry: bad duration '15x': write it like 15m, 1h or 1h30m",
        "site.yaml:7: rule 'r1': match.namespaces[1]: bad namespace pattern 'Prod_[x': namespaces "
        "hold only a-z, 0-9 and '-' (wildcards: * ? [...])",
        "site.yaml:7: rule 'r1': match.max_share: Input should be less than or equal to 1 "
        "(got 1.5)",
        "site.yaml:9: rule 'r1': approvals_required: Input should be less than or equal to 2 "
        "(got 3)",
        "site.yaml:10: rule 'r2': missing required key 'verdict'",
        "site.yaml:11: rule 'r2': match.kinds: an empty list matches nothing: omit the key to "
        "match anything",
    ]


@pytest.mark.parametrize(
    ("freeze", "message"),
    [
        (
            "{name: f, weekly: [{start: 22:00, end: '06:00'}], timezone: Mars/Base}",
            "unknown timezone",
        ),
        ("{name: f, weekly: [{start: 'fri 16:00', end: '08:00'}]}", "weekday on both"),
        ("{name: f, weekly: [{start: '10:00', end: '10:00'}]}", "is empty"),
        ("{name: f, weekly: [{days: [monday], start: '1:00', end: '2:00'}]}", "'mon'"),
        ("{name: f, dates: [{start: 2025-01-05, end: 2025-01-01}]}", "ends before it starts"),
        ("{name: f, dates: [{start: 2025-01-01, end: 2025-01-05}], verdict: SAFE}", "never SAFE"),
        ("{name: f}", "needs a weekly or dates window"),
        ("{name: f, weekly: [{start: '25:00', end: '26:00'}]}", "hours run 00..24"),
    ],
)
def test_policy_check_reports_bad_freeze_windows(
    write_policy: PolicyWriter, freeze: str, message: str
) -> None:
    problems = problems_in(write_policy(f"freezes:\n  - {freeze}\n"))
    assert len(problems) == 1
    assert problems[0].startswith("site.yaml:2: freeze 'f': ")
    assert message in problems[0]


def test_unquoted_clock_times_are_read_as_clock_times(write_policy: PolicyWriter) -> None:
    # YAML 1.1 turns an unquoted 22:30 into the integer 1350 (base 60).
    policy = load_policy(
        [write_policy("freezes: [{name: night, weekly: [{start: 22:30, end: 23:45}]}]\n")],
        include_defaults=False,
    )
    window = policy.freezes[0].weekly[0]
    assert (window.start, window.end) == ("22:30", "23:45")


def test_policy_check_reports_duplicate_keys_and_rule_names(write_policy: PolicyWriter) -> None:
    path = write_policy(
        """
        defaults: {approvers: [S0ONCALL]}
        rules:
          - {name: a, verdict: SAFE, verdict: RISKY}
          - {name: b, verdict: SAFE}
          - {name: b, verdict: RISKY}
        """
    )
    assert problems_in(path) == [
        "site.yaml:3: duplicate key 'verdict'",
        "site.yaml:5: rule name 'b' is used twice",
    ]


def test_policy_check_reports_yaml_syntax_errors_with_their_line(
    write_policy: PolicyWriter,
) -> None:
    path = write_policy("rules:\n  - name: a\n    verdict: [SAFE\n")
    [problem] = check_policy_files([path], include_defaults=False)
    assert problem.line == 4
    assert problem.message.startswith("invalid YAML:")


def test_policy_check_reports_a_missing_file(tmp_path: Path) -> None:
    [problem] = check_policy_files([tmp_path / "nope.yaml"])
    assert problem == PolicyProblem(
        str(tmp_path / "nope.yaml"), None, problem.message, severity="error"
    )
    assert "cannot read the file" in problem.message


def test_policy_check_reports_a_rule_shadowed_by_a_broader_earlier_rule(
    write_policy: PolicyWriter,
) -> None:
    path = write_policy(
        """
        defaults: {approvers: [S0ONCALL]}
        rules:
          - name: restarts
            match: {kinds: [restart_deployment, delete_pod], namespaces: ["prod-*"]}
            verdict: RISKY
          - name: eu-restarts
            match: {kinds: [restart_deployment], namespaces: [prod-eu], max_pods: 3}
            verdict: SAFE
          - name: anything
            verdict: RISKY
          - name: never
            match: {kinds: [cordon_node]}
            verdict: SAFE
        """
    )
    problems = check_policy_files([path], include_defaults=False)
    assert [(p.line, p.severity) for p in problems] == [(6, "warning"), (11, "warning")]
    assert problems[0].message == (
        f"rule 'eu-restarts' is unreachable: earlier rule 'restarts' ({path}:3) "
        "matches everything it matches"
    )
    assert "earlier rule 'anything'" in problems[1].message


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("{kinds: [restart_deployment], max_pods: 3}", "{kinds: [restart_deployment]}"),
        ("{namespaces: ['!prod']}", "{namespaces: ['prod-*']}"),
        ("{namespaces: ['prod-*']}", "{namespaces: ['prod*']}"),
        ("{target_labels: {tier: web}}", "{target_labels: {tier: [web, api]}}"),
        ("{min_confidence: 0.9}", "{min_confidence: 0.8}"),
    ],
)
def test_policy_check_does_not_flag_rules_an_earlier_rule_only_partly_covers(
    write_policy: PolicyWriter, earlier: str, later: str
) -> None:
    path = write_policy(
        f"""
        defaults: {{approvers: [S0ONCALL]}}
        rules:
          - {{name: first, match: {earlier}, verdict: SAFE}}
          - {{name: second, match: {later}, verdict: SAFE}}
        """
    )
    assert check_policy_files([path], include_defaults=False) == []


def test_policy_check_reports_risky_rule_nobody_may_approve(write_policy: PolicyWriter) -> None:
    path = write_policy(
        """
        rules:
          - {name: explicit-none, match: {kinds: [delete_pod]}, verdict: RISKY, approvers: []}
          - {name: relies-on-defaults, match: {kinds: [cordon_node]}, verdict: RISKY}
        """
    )
    messages = [p.message for p in check_policy_files([path], include_defaults=False)]
    assert messages == [
        "rule 'explicit-none': RISKY with an empty approvers list, so nobody may approve it",
        "defaults.approvers is empty, so nobody may approve the RISKY rules relies-on-defaults: "
        "set it in your site file, e.g. approvers: [S0ONCALL]",
    ]


def test_policy_check_reports_more_approvals_than_named_approvers(
    write_policy: PolicyWriter,
) -> None:
    path = write_policy(
        """
        defaults: {approvers: [S0ONCALL]}
        rules:
          - {name: cordon, match: {kinds: [cordon_node]}, verdict: RISKY, approvers: [U0ALICE],
             approvals_required: 2}
          - {name: group-ok, match: {kinds: [delete_pod]}, verdict: RISKY, approvals_required: 2}
        """
    )
    problems = problems_in(path, include_defaults=False)
    assert problems == [
        "site.yaml:3: rule 'cordon': needs 2 approvals but names only 1 approver(s): U0ALICE"
    ]


def test_load_policy_raises_with_every_problem_found(write_policy: PolicyWriter) -> None:
    path = write_policy("rules: [{name: a, verdict: MAYBE}, {name: b, verdict: SAFE, x: 1}]\n")
    with pytest.raises(PolicyLoadError) as caught:
        load_policy([path])
    assert [p.message for p in caught.value.problems] == [
        "rule 'a': unknown verdict 'MAYBE' (expected one of SAFE, RISKY, FORBIDDEN)",
        "rule 'b': unknown key 'x'",
    ]
    assert str(path) in str(caught.value)


def test_empty_site_file_changes_nothing(write_policy: PolicyWriter) -> None:
    assert load_policy([write_policy("")]) == load_policy()


def test_verdicts_and_modes_are_case_insensitive(write_policy: PolicyWriter) -> None:
    path = write_policy("mode: Shadow\nrules: [{name: a, verdict: safe}]\n")
    policy = load_policy([path], include_defaults=False)
    assert (policy.mode.value, policy.rules[0].verdict.value) == ("shadow", "SAFE")
