"""The capacity review's summary message in the digest thread: it says where each proposed
action is when it is posted, in words that stay true afterwards."""

from __future__ import annotations

from bot.remediation.capacity_recommend import ReviewOutcome
from bot.remediation.capacity_review import review_text
from bot.remediation.proposals import ProposalOutcome
from bot.remediation.records import ActionState


def outcome(action_id: str, state: ActionState, note: str = "") -> ProposalOutcome:
    return ProposalOutcome(action_id, f"p-{action_id}", state, "SAFE", "scale-idle", note)


def test_an_action_that_already_succeeded_is_reported_done_not_running_now() -> None:
    review = ReviewOutcome((outcome("a1", ActionState.APPROVED),), ())
    text = review_text(review, {"a1": "succeeded"})
    assert "1 done" in text
    assert "running now" not in text
    assert "started" not in text


def test_an_action_still_in_flight_is_started_and_points_to_its_card() -> None:
    review = ReviewOutcome(
        (outcome("a1", ActionState.APPROVED), outcome("a2", ActionState.APPROVED)), ()
    )
    text = review_text(review, {"a1": "approved", "a2": "executing"})
    assert "2 started automatically (allowed by the policy)" in text
    assert "cards in this thread show how each action is going" in text
    assert "running now" not in text


def test_pending_failed_and_repeated_proposals_are_counted_separately() -> None:
    review = ReviewOutcome(
        (
            outcome("a1", ActionState.PENDING),
            outcome("a2", ActionState.APPROVED),
            outcome("a3", ActionState.PENDING, note="duplicate"),
        ),
        ("payments: no usage data",),
    )
    text = review_text(review, {"a1": "pending", "a2": "failed", "a3": "pending"})
    assert "1 waiting for approval; 1 failed; 1 still open from an earlier review" in text
    assert "• payments: no usage data" in text
    assert "cards in this thread" not in text
