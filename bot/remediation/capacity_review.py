"""The capacity review in Slack: once the weekly digest is posted, its rightsizing and idle
recommendations become proposals (`bot.remediation.capacity_recommend`) whose cards go in
the digest's thread, followed by one message saying what was proposed, what is still open from an
earlier review (not repeated) and what was not proposed, and why."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping

from slack_sdk.errors import SlackApiError

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
    ActionState.APPROVED: "started automatically (allowed by the policy)",
    ActionState.EXECUTING: "started automatically (allowed by the policy)",
    ActionState.SUCCEEDED: "done",
    ActionState.FAILED: "failed",
    ActionState.ROLLED_BACK: "undone after validation",
    ActionState.NOT_RECOVERED: "applied, signals not cleared",
    ActionState.SHADOWED: "logged only (shadow mode)",
    ActionState.REFUSED: "refused",
    ActionState.BLOCKED: "blocked (opsbot is paused)",
    ActionState.DENIED: "denied",
    ActionState.EXPIRED: "expired",
    DUPLICATE: "still open from an earlier review (not repeated)",
}
"""Each state in words that stay true after the message is posted: an action the policy let
run is "started" (its card, edited at every step, shows where it is now), never "running
now", which would be false by the time anyone reads it; `LiveSummary` rewrites the message
as each such action finishes ("done", "failed", …)."""
_IN_FLIGHT = frozenset({ActionState.APPROVED, ActionState.EXECUTING})


def review_text(review: ReviewOutcome, current: Mapping[str, str] | None = None) -> str:
    """The thread message summing the review up ("" when there was nothing to propose).
    `current` maps action ids to their state as the message is posted (the proposal's
    outcome is only where each action started)."""
    now = current or {}
    keys = [
        DUPLICATE if outcome.note == DUPLICATE else now.get(outcome.action_id, str(outcome.state))
        for outcome in review.outcomes
    ]
    counts = Counter(keys)
    if not counts and not review.notes:
        return ""
    # Two in-flight states read the same: say it once.
    merged = Counter[str]()
    for key, count in counts.items():
        merged[_STATE_WORDS.get(key, key.replace("_", " "))] += count
    parts = [f"{count} {words}" for words, count in merged.items()]
    lines = [
        ":clipboard: *Capacity proposals from this review*: "
        + ("; ".join(parts) if parts else "none")
        + ". Nothing changes without the policy, and RISKY ones without an approver."
    ]
    if any(key in _IN_FLIGHT for key in keys):
        lines.append("_The cards in this thread show how each action is going._")
    if review.notes:
        lines.append("*Not proposed:*")
        lines.extend(f"• {note}" for note in review.notes[:NOTES_SHOWN])
        more = len(review.notes) - NOTES_SHOWN
        if more > 0:
            lines.append(f"_…and {more} more_")
    return "\n".join(lines)[:3900]


def current_states(svc: Remediation, review: ReviewOutcome) -> dict[str, str]:
    """Each proposed action's state as stored now (an action the policy allowed may already
    have finished by the time the summary is posted)."""
    found: dict[str, str] = {}
    for outcome in review.outcomes:
        read = svc.cards.read(outcome.action_id)
        if read is not None:
            found[outcome.action_id] = read[0].state
    return found


class LiveSummary:
    """The review's summary message, edited as its started actions finish, until none is in
    flight (this process's cards tell it; after a restart the message keeps its last words,
    which stay true: "started")."""

    def __init__(self, svc: Remediation, review: ReviewOutcome, channel: str, ts: str) -> None:
        self.svc, self.review, self.channel, self.ts = svc, review, channel, ts
        self.ids = frozenset(o.action_id for o in review.outcomes)
        self.shown = ""
        self.ts_posted = ""
        self._lock = threading.Lock()

    def post(self) -> None:
        """Post the summary; keep it up to date while any action it counts is in flight."""
        states = current_states(self.svc, self.review)
        self.shown = review_text(self.review, states)
        posted = self.svc.client.chat_postMessage(
            channel=self.channel, thread_ts=self.ts, text=self.shown, unfurl_links=False
        )
        self.ts_posted = str(posted["ts"])
        if any(state in _IN_FLIGHT for state in states.values()):
            self.svc.cards.listen(self.changed)
            self.changed(next(iter(self.ids)))  # a finish between the read and the listen

    def changed(self, action_id: str) -> None:
        """One of the cards changed: rewrite the summary from the stored states."""
        if action_id not in self.ids:
            return
        with self._lock:
            states = current_states(self.svc, self.review)
            text = review_text(self.review, states)
            if not any(state in _IN_FLIGHT for state in states.values()):
                self.svc.cards.unlisten(self.changed)
            if text == self.shown:
                return
            try:
                self.svc.client.chat_update(channel=self.channel, ts=self.ts_posted, text=text)
            except SlackApiError as exc:
                log.warning("capacity review summary not updated", error=str(exc))
                return
            self.shown = text


def propose_in_thread(
    svc: Remediation, report: CapacityReport, thread: SlackThread
) -> ReviewOutcome | None:
    """Propose the report's recommendations with their cards in `thread`; None when
    remediation is turned off (nothing is recorded then)."""
    if not svc.settings.enabled:
        log.info("capacity proposals skipped: remediation is disabled")
        return None
    review = propose_capacity(svc, report.rightsizing, report.idle, thread=thread)
    if review.outcomes or review.notes:
        LiveSummary(svc, review, thread.channel, thread.ts).post()
    log.info(
        "capacity review proposed",
        proposals=len(review.outcomes),
        notes=len(review.notes),
        channel=thread.channel,
    )
    return review
