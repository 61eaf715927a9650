"""Pure Block Kit builders for remediation: the approval card (pending, then decided), the
deny modal, and the `/opsbot status` answer. Button values carry the action id only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack.blocks import ActionId
from bot.slack.kit import context, fields_section, header, mrkdwn, section
from bot.slack.text import Mrkdwn, code, escape, join, lit, mention_group, mention_user
from policies.actions import USER_ID, USERGROUP_ID

DENY_MODAL = "action_deny_modal"
APPROVE_MODAL = "action_approve_modal"
DENY_REASON_BLOCK = "deny_reason"
DECIDED_EMOJI = {
    "approved": ":white_check_mark:",
    "executing": ":gear:",
    "succeeded": ":large_green_circle:",
    "failed": ":red_circle:",
    "rolled_back": ":leftwards_arrow_with_hook:",
    "not_recovered": ":warning:",
    "denied": ":no_entry_sign:",
    "expired": ":hourglass:",
    "refused": ":no_entry:",
    "blocked": ":octagonal_sign:",
    "shadowed": ":ghost:",
}


@dataclass(frozen=True)
class CardThread:
    """Where a clicked card is: its channel and thread (None when Slack did not say)."""

    channel: str | None
    thread: str | None


@dataclass(frozen=True)
class ActionCard:
    """Everything the approval card shows, read from an action record."""

    action_id: str
    kind: str
    target: str
    params: dict[str, Any]
    reason: str
    summary: str
    evidence: tuple[str, ...]
    confidence: float
    blast: dict[str, Any]
    verdict: str
    rule: str
    rule_reason: str
    state: str
    proposer: str
    approvals_required: int
    approvers: tuple[str, ...]
    approvals: tuple[str, ...] = ()
    expires_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    deny_reason: str | None = None
    outcome: tuple[str, ...] = field(default=())
    engine: str | None = None  # what proposed it: claude | pattern | capacity


def slack_date(at: datetime, fallback: str | None = None) -> Mrkdwn:
    """A date Slack shows in the reader's time zone (`fallback` where it cannot)."""
    epoch = int(at.timestamp())
    text = escape(fallback or at.strftime("%Y-%m-%d %H:%M UTC")).replace("|", "/")
    return Mrkdwn(f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{text}>")


def handle(actor: str) -> Mrkdwn:
    """One actor as Slack shows it: a user group or user id becomes a mention handle; the
    policy (`policy:RULE`) and opsbot's own jobs are named in words, never as a mention."""
    actor = actor.strip()
    if USERGROUP_ID.match(actor):
        return mention_group(actor)
    if USER_ID.match(actor):
        return mention_user(actor)
    if actor.startswith("policy:"):
        return Mrkdwn(f"the policy (rule {code(actor.removeprefix('policy:'))})")
    if actor in ("policy", "opsbot", "scheduler", "agent"):
        return escape({"policy": "the policy", "agent": "the investigation"}.get(actor, actor))
    return escape(actor)


def who(ids: tuple[str, ...] | list[str]) -> Mrkdwn:
    """Several actors, comma-separated ("nobody" when there are none)."""
    return join((handle(i) for i in ids if i.strip()), lit(", ")) or lit("nobody")


def blast_text(blast: dict[str, Any]) -> Mrkdwn:
    """The blast radius in words (numbers only: nothing in it comes from outside)."""
    parts = [
        f"{blast.get('pods_affected', 0)} pod(s)",
        f"{blast.get('replicas_affected', 0)} replica(s)",
        f"{float(blast.get('workload_share', 0.0)):.0%} of the workload",
        f"{blast.get('namespaces_touched', 0)} namespace(s)",
    ]
    if blast.get("nodes_touched"):
        parts.append(f"{blast['nodes_touched']} node(s)")
    return escape(", ".join(parts))


def card_text(card: ActionCard) -> str:
    """The notification fallback text (Slack parses it as mrkdwn too: escaped)."""
    return escape(f"{card.verdict} action {card.kind} on {card.target}: {card.state}")


def _params(params: dict[str, Any]) -> Mrkdwn:
    shown = ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return Mrkdwn(f" ({escape(shown)})") if shown else lit("")


RESOURCE_FIELDS = (
    ("cpu_request", "cpu"),
    ("memory_request", "memory"),
    ("cpu_limit", "cpu limit"),
    ("memory_limit", "memory limit"),
)


def resource_changes(params: dict[str, Any]) -> str:
    """`app: cpu 500m→50m, memory 512Mi→192Mi, memory limit 1Gi→288Mi` (absent = unset)."""
    changes = [
        f"{label} {params.get(f'previous_{name}') or 'unset'}→{params.get(name) or 'unset'}"
        for name, label in RESOURCE_FIELDS
        if params.get(f"previous_{name}") != params.get(name)
    ]
    return f"{params.get('container', '?')}: {', '.join(changes) or 'no change'}"


def _what(card: ActionCard) -> Mrkdwn:
    if card.kind == "set_resources":
        return Mrkdwn(f"{code(card.kind)}\n{escape(resource_changes(card.params))}")
    return Mrkdwn(f"{code(card.kind)}{_params(card.params)}")


def _buttons(card: ActionCard) -> ActionsBlock:
    """Approve and Deny. Neither carries Slack's client-side `confirm` dialog: Slack shows that
    dialog to everyone who can see the message, before opsbot hears the click, so it cannot
    know who may approve. The server checks the clicker first and only then opens a modal
    (`approve_modal`, `deny_modal`); anyone else gets an ephemeral refusal in the thread."""
    return ActionsBlock(
        block_id=f"approval:{card.action_id}",
        elements=[
            ButtonElement(
                text="Approve",
                action_id=ActionId.ACTION_APPROVE.value,
                value=card.action_id,
                style="primary",
            ),
            ButtonElement(
                text="Deny",
                action_id=ActionId.ACTION_DENY.value,
                value=card.action_id,
                style="danger",
            ),
        ],
    )


RUN_STATES = frozenset({"executing", "succeeded", "failed", "rolled_back", "not_recovered"})
"""States opsbot reached by itself after the approval: credited to opsbot, not the approver."""


def _approved_by(decided_by: str) -> Mrkdwn:
    if decided_by.startswith("policy:"):
        rule = code(decided_by.removeprefix("policy:"))
        return Mrkdwn(f"automatically by the policy (rule {rule})")
    return Mrkdwn(f"by {who(decided_by.split(','))}")


def _status_lines(card: ActionCard) -> list[str]:
    emoji = DECIDED_EMOJI.get(card.state, ":grey_question:")
    lines = [f"{emoji} *{card.state.replace('_', ' ').capitalize()}*"]
    when = f" at {slack_date(card.decided_at)}" if card.decided_at else ""
    if card.state in RUN_STATES:
        lines[0] += " by opsbot"
        if card.decided_by:
            lines.append(f":white_check_mark: Approved {_approved_by(card.decided_by)}{when}")
    elif card.decided_by:
        lines[0] += f" {_approved_by(card.decided_by)}{when}"
    if card.deny_reason:
        lines.append(f"Reason: {escape(card.deny_reason)}")
    lines.extend(escape(line) for line in card.outcome)
    return lines


def approval_card(card: ActionCard) -> list[Block]:
    """The card in the incident thread: what, where, why, blast radius, rule; buttons while
    pending, then who decided, when, and the outcome."""
    # The evidence is in the finding above the card: the card says why in one line.
    why = escape(card.summary or card.reason)
    if card.reason and card.summary and card.reason != card.summary:
        why = Mrkdwn(f"{why}\n{escape(card.reason)}")
    if card.evidence:
        why = Mrkdwn(why + "\n_Evidence: in the finding above this card._")
    count = card.approvals_required
    needed = f"Needs {count} approval{'' if count == 1 else 's'} from {who(card.approvers)}" + (
        f"; approved so far by {who(card.approvals)}" if card.approvals else ""
    )
    blocks: list[Block] = [
        header(f"{card.verdict.capitalize()} action: {card.kind}"),
        fields_section(
            [
                Mrkdwn(f"*What*\n{_what(card)}"),
                Mrkdwn(f"*Where*\n{code(card.target)}"),
                Mrkdwn(f"*Blast radius*\n{blast_text(card.blast)}"),
                _rule_field(card),
            ]
        ),
        section(Mrkdwn(f"*Why* (confidence {card.confidence:.0%})\n{why}")),
        context(escape(card.rule_reason) or lit("-")),
    ]
    if card.state == "pending":
        expiry = f" · expires {slack_date(card.expires_at)}" if card.expires_at else ""
        blocks.append(context(Mrkdwn(needed + expiry)))
        blocks.append(_buttons(card))
    else:
        blocks.append(DividerBlock())
        blocks.append(
            SectionBlock(
                block_id=f"decision:{card.action_id}",
                text=mrkdwn(Mrkdwn("\n".join(_status_lines(card)))),
            )
        )
    proposer = handle(card.proposer)
    if card.engine == "capacity":
        proposer = lit("the capacity review")
    blocks.append(context(Mrkdwn(f"Action {code(card.action_id)} proposed by {proposer}")))
    return blocks


def _rule_field(card: ActionCard) -> Mrkdwn:
    return Mrkdwn(f"*Rule*\n{code(card.rule)} ({escape(card.verdict)})")


def deny_modal(action_id: str, target: str, kind: str, metadata: str | None = None) -> View:
    """Deny asks why; the reason goes to the card and the audit log. `metadata` (the card's
    channel and thread) comes back with the submission."""
    return View(
        type="modal",
        callback_id=DENY_MODAL,
        private_metadata=metadata or action_id,
        title=PlainTextObject(text="Deny action"),
        submit=PlainTextObject(text="Deny"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            section(Mrkdwn(f"Deny {code(kind)} on {code(target)}?")),
            InputBlock(
                block_id=DENY_REASON_BLOCK,
                label=PlainTextObject(text="Reason"),
                element=PlainTextInputElement(
                    action_id=ActionId.ACTION_DENY_REASON.value,
                    multiline=True,
                    max_length=2000,
                    placeholder="Why should opsbot not do this?",
                ),
            ),
        ],
    )


def approve_modal(card: ActionCard, metadata: str) -> View:
    """The confirmation an authorised approver sees after clicking Approve (nobody else is
    shown it): what runs where, its blast radius, that a dry run comes first, and how many
    approvals it still needs. Submitting approves; `metadata` (action id, the card's channel
    and thread) comes back with the submission."""
    left = card.approvals_required - len(card.approvals)
    count = (
        "Your approval runs it now."
        if left <= 1
        else f"Yours is one of {left} approvals it still needs; it runs after the last."
    )
    return View(
        type="modal",
        callback_id=APPROVE_MODAL,
        private_metadata=metadata,
        title=PlainTextObject(text="Approve action"),
        submit=PlainTextObject(text="Approve"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            section(Mrkdwn(f"Run {_what(card)} on {code(card.target)}?")),
            fields_section(
                [Mrkdwn(f"*Blast radius*\n{blast_text(card.blast)}"), _rule_field(card)]
            ),
            context(
                Mrkdwn(
                    "opsbot runs a dry run first, then the change, and shows each "
                    f"step and the outcome on the card. {count}"
                )
            ),
        ],
    )


def as_text(blocks: list[Block]) -> str:
    """Every text in the blocks, for logs and tests."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk([block.to_dict() for block in blocks])
    return "\n".join(found)
