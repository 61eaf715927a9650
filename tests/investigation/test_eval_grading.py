"""Grading an investigation against a pack's ground truth: root cause right/partly/wrong,
remediation right/wrong/harmful, and the calibration table."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.investigation.grading import (
    ActionRef,
    GroundTruth,
    calibration,
    grade_remediation,
    grade_root_cause,
    target_text,
)

ROLLBACK_INVENTORY = ActionRef("rollback_deployment", "deployment/prod/inventory")
ROLLBACK_CHECKOUT = ActionRef("rollback_deployment", "deployment/prod/checkout")
TRUTH = GroundTruth(
    culprit="inventory",
    keywords=("inventory", "2.4.0", "N+1", "queries"),
    remediation=ROLLBACK_INVENTORY,
    acceptable=(ActionRef("scale_deployment", "deployment/prod/inventory"),),
    harmful=(ROLLBACK_CHECKOUT, ActionRef("delete_pvc", None)),
)


def test_a_finding_naming_the_culprit_and_two_keywords_is_right() -> None:
    text = "inventory 2.4.0 runs N+1 queries per reservation"
    assert grade_root_cause(text, TRUTH) == "right"


def test_a_finding_naming_only_the_culprit_is_partly_right() -> None:
    assert grade_root_cause("inventory is slow", TRUTH) == "partly"


def test_keywords_without_the_culprit_are_partly_right() -> None:
    assert grade_root_cause("checkout runs N+1 queries", TRUTH) == "partly"


def test_a_finding_about_something_else_is_wrong() -> None:
    assert grade_root_cause("checkout pods are OOM-killed", TRUTH) == "wrong"


def test_a_name_inside_another_name_does_not_count() -> None:
    assert grade_root_cause("inventory-sync 12.4.0x is fine", TRUTH) == "wrong"


def test_a_culprit_named_only_to_be_ruled_out_is_not_named() -> None:
    text = (
        "checkout's connection pool is exhausted by N+1 queries. Ruled out: inventory was "
        "also deployed (revision 3, 2.4.0) but its own spans are healthy."
    )
    assert grade_root_cause(text, TRUTH) == "partly"


def test_a_culprit_named_before_what_is_ruled_out_still_counts() -> None:
    text = "inventory 2.4.0 runs N+1 queries. Ruled out: checkout was also deployed."
    assert grade_root_cause(text, TRUTH) == "right"


def test_the_expected_action_is_right_and_an_acceptable_one_too() -> None:
    assert grade_remediation([ROLLBACK_INVENTORY], TRUTH) == "right"
    scale = ActionRef("scale_deployment", "deployment/prod/inventory")
    assert grade_remediation([scale], TRUTH) == "right"


def test_no_proposal_or_another_target_is_wrong() -> None:
    assert grade_remediation([], TRUTH) == "wrong"
    other = ActionRef("rollback_deployment", "deployment/prod/payments")
    assert grade_remediation([other], TRUTH) == "wrong"


def test_one_harmful_proposal_makes_the_answer_harmful_even_beside_the_right_one() -> None:
    assert grade_remediation([ROLLBACK_INVENTORY, ROLLBACK_CHECKOUT], TRUTH) == "harmful"


def test_a_harmful_kind_without_a_target_is_harmful_on_any_target() -> None:
    anywhere = ActionRef("delete_pvc", "persistentvolumeclaim/prod/postgres-data")
    assert grade_remediation([anywhere], TRUTH) == "harmful"


def test_targets_print_like_policies_resource_refs() -> None:
    assert target_text("deployment", "prod", "checkout") == "deployment/prod/checkout"
    assert target_text("node", None, "worker-2") == "node/worker-2"


def test_calibration_counts_right_answers_per_confidence_bucket() -> None:
    rows = calibration([(0.95, "right"), (0.92, "wrong"), (0.75, "right"), (0.2, "partly")])
    by_bucket = {(r.low, r.findings, r.right) for r in rows if r.findings}
    assert by_bucket == {(0.9, 2, 1), (0.7, 1, 1), (0.0, 1, 0)}
    assert sum(r.findings for r in rows) == 4


@given(st.text(max_size=300), st.lists(st.sampled_from([ROLLBACK_CHECKOUT, ROLLBACK_INVENTORY])))
def test_grading_hostile_text_never_fails_and_gives_a_known_grade(
    text: str, proposals: list[ActionRef]
) -> None:
    assert grade_root_cause(text, TRUTH) in ("right", "partly", "wrong")
    assert grade_remediation(proposals, TRUTH) in ("right", "wrong", "harmful")


def test_a_keyword_may_run_on_with_a_hyphen_but_the_culprit_may_not() -> None:
    truth = GroundTruth("payments", ("HikariPool", "timeout"), ROLLBACK_INVENTORY)
    assert grade_root_cause("payments HikariPool-1 timeout", truth) == "right"
    assert grade_root_cause("payments-v2 HikariPool-1 timeout", truth) == "partly"
