"""The capacity review in Slack: once the weekly digest is posted, its rightsizing and idle
recommendations become proposals (`bot.remediation.capacity_recommend`) whose cards go in
the digest's thread, followed by one message saying what was proposed, what is still open from an
earlier review (not repeated) and what was not proposed, and why."""

from __future__ import annotations

from collections import Counter

from bot.capacity.models import CapacityReport
from bot.logs import get_logger
from bot.remediation.capacity_recommend import ReviewOutcome, propose_capacity
from bot.remediation.escalation import SlackThread
from bot.remediation.records import ActionState
from bot.remediation.service import Remediation

log = get_logger("opsbot.capacity.review")
NOTES_SHOWN = 10
DUPLICATE = "duplicate"
_STATE_WORDS: dict[str, str] = {
    ActionState.PENDING: "waiting for approval",
    ActionState.APPROVED: "allowed by the policy, running now",
    ActionState.SHADOWED: "logged only (shadow mode)",
    ActionState.REFUSED: "refused",
    ActionState.BLOCKED: "blocked (opsbot is paused)",
    DUPLICATE: "still open from an earlier review (not repeated)",
}


def review_text(review: ReviewOutcome) -> str:
    """The thread message summing the review up ("" when there was nothing to propose)."""
    counts = Counter(
        DUPLICATE if outcome.note == DUPLICATE else str(outcome.state)
        for outcome in review.outcomes
    )
    if not counts and not review.notes:
        return ""
    parts = [f"{count} {_STATE_WORDS.get(key, key)}" for key, count in counts.items()]
    lines = [
        ":clipboard: *Capacity proposals from this review*: "
        + ("; ".join(parts) if parts else "none")
        + ". Nothing changes without the policy, and RISKY ones without an approver."
    ]
    if review.notes:
        lines.append("*Not proposed:*")
        lines.extend(f"• {note}" for note in review.notes[:NOTES_SHOWN])
        more = len(review.notes) - NOTES_SHOWN
        if more > 0:
            lines.append(f"_…and {more} more_")
    return "\n".join(lines)[:3900]


def propose_in_thread(
    svc: Remediation, report: CapacityReport, thread: SlackThread
) -> ReviewOutcome | None:
    """Propose the report's recommendations with their cards in `thread`; None when
    remediation is turned off (nothing is recorded then)."""
    if not svc.settings.enabled:
        log.info("capacity proposals skipped: remediation is disabled")
        return None
    review = propose_capacity(svc, report.rightsizing, report.idle, thread=thread)
    text = review_text(review)
    if text:
        svc.client.chat_postMessage(
            channel=thread.channel, thread_ts=thread.ts, text=text, unfurl_links=False
        )
    log.info(
        "capacity review proposed",
        proposals=len(review.outcomes),
        notes=len(review.notes),
        channel=thread.channel,
    )
    return review
