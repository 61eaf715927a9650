"""Pure Block Kit builders for investigation answers: a finding that reads in ten seconds
(headline, root cause, confidence, ruled out, proposed action), its evidence as short
observations with links to the source UIs, the raw queries in a modal behind "Show
evidence", and a footer naming the engine, tokens and cost."""

from __future__ import annotations

import re
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot.investigation.agent.finding import Engine, Finding, Investigation, MetricChange
from bot.investigation.observations import NO_DATA, Observation, observations, source_name
from bot.slack.blocks import ActionId, escape
from bot.slack.kit import context, section
from bot.slack.text import Mrkdwn, code, join, link, lit
from tools.base import Evidence

MAX_OBSERVATIONS = 6
MAX_CHANGES = 3
MAX_MODAL_ITEMS = 40
MAX_SECTION_CHARS = 2900
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def engine_line(inv: Investigation) -> str:
    if inv.engine is Engine.CLAUDE:
        how = f"Claude ({inv.model})" + (" · cached answer" if inv.cached else "")
    else:
        how = "Pattern engine" + (f" (rule {inv.finding.rule})" if inv.finding.rule else "")
        if inv.fallback_reason:
            how += f" · {inv.fallback_reason}"
    usage = inv.usage
    if usage.calls:
        how += (
            f" · {usage.calls} model calls, {usage.input_tokens:,} in / "
            f"{usage.output_tokens:,} out / {usage.cache_read_tokens:,} cached tokens, "
            f"${usage.cost_usd:.4f}"
        )
    return how


def without_history_note(error: str) -> tuple[str, list[Block]]:
    """The fallback text and blocks of the note posted before a follow-up answer when Slack
    would not give the thread's earlier messages: the asker learns the answer does not take
    them into account (and why), instead of getting no answer at all."""
    text = (
        "I could not read this thread's earlier messages "
        f"(Slack said {escape(_clip(error, 60))}), so this answer is based on your "
        "message alone."
    )
    return text, [context(Mrkdwn(f":warning: {text}"))]


def placeholder_blocks(question: str) -> list[Block]:
    return [
        section(Mrkdwn(f":hourglass_flowing_sand: Investigating: _{escape(_clip(question, 500))}_"))
    ]


def finding_text(inv: Investigation) -> str:
    """The plain-text form (notifications, and the history the next question sees). Slack
    reads a message's `text` as mrkdwn too, so it is escaped like the blocks."""
    finding = inv.finding
    lines = [finding.summary, f"Root cause: {finding.root_cause}"]
    lines += [f"Proposed: {p.kind} {p.target} ({p.reason})" for p in finding.proposals]
    lines += [f"Recommended: {r}" for r in finding.recommendations]
    return _clip(escape("\n".join(lines)), 3000)


def first_sentence(text: str, limit: int = 300) -> str:
    """The root cause in one sentence: up to the first full stop followed by a capital."""
    head = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    return _clip(head, limit)


def confidence_word(confidence: float) -> str:
    """80 % (high), 55 % (medium), 20 % (low)."""
    word = "high" if confidence >= 0.75 else "medium" if confidence >= 0.45 else "low"
    return f"{confidence:.0%} ({word})"


def _since_text(since: datetime) -> str:
    epoch = int(since.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{since:%Y-%m-%d %H:%M} UTC>"


def _link(url: str | None, label: str) -> str:
    """A mrkdwn link to an http(s) URL (URL and label escaped); the bare label otherwise."""
    return link(url, label) if url else escape(label)


def _change_line(change: MetricChange, links: dict[str, str]) -> str:
    at = f"{change.at:%H:%M} UTC"
    return f"• {escape(change.describe())} at {at} · " + _link(
        links.get(change.query), "Prometheus graph"
    )


def _observation_line(item: Observation) -> str:
    line = f"• {escape(item.text)} · {_link(item.link, item.source)}"
    if item.command:
        line += f" · `{escape(item.command)}`"
    return line


def evidence_lines(finding: Finding, limit: int = MAX_OBSERVATIONS) -> list[str]:
    """The short list: metric changes first (the strongest), then one observation per other
    tool call, each naming the UI that shows it."""
    links = {e.query: e.link for e in finding.evidence if e.link}
    changes = finding.changes[:MAX_CHANGES]
    lines = [_change_line(c, links) for c in changes]
    covered = {c.query for c in changes}
    found = observations(finding.evidence, covered)
    lines += [_observation_line(o) for o in found if o.text != NO_DATA]
    empty = [o.source for o in found if o.text == NO_DATA]
    if empty:
        sources = ", ".join(sorted(set(empty)))
        lines.append(
            f"• no data from {len(empty)} other quer{'y' if len(empty) == 1 else 'ies'} ({sources})"
        )
    if len(lines) > limit:
        lines = [*lines[:limit], f"… {len(lines) - limit} more behind *Show evidence*"]
    return lines


def finding_blocks(
    inv: Investigation,
    title: str = "Investigation",
    *,
    where: str = "",
    since: datetime | None = None,
    evidence_ref: str | None = None,
) -> list[Block]:
    """The finding in the order an on-call reads it: headline (what, where, since when), root
    cause in one sentence, confidence, what was ruled out, the proposed action; then the
    evidence as short observations with links, and the raw queries behind a button."""
    finding = inv.finding
    place = " · ".join(
        part
        for part in (
            f"*{escape(title)}*",
            escape(where) if where else "",
            f"since {_since_text(since)}" if since else "",
        )
        if part
    )
    headline = Mrkdwn(f"{place}\n:mag: *{escape(_clip(finding.summary, 600))}*")
    blocks: list[Block] = [section(headline)]
    facts = [
        f"*Root cause:* {escape(first_sentence(finding.root_cause))}",
        f"*Confidence:* {confidence_word(finding.confidence)}",
    ]
    if finding.ruled_out:
        facts.append("*Ruled out:* " + escape(", ".join(finding.ruled_out[:8])))
    for p in finding.proposals[:3]:
        facts.append(f"*Proposed:* {code(p.kind)} on {code(str(p.target))} (approval card below)")
    for r in finding.recommendations[:3]:
        facts.append(f"*Recommended:* {escape(_clip(r, 300))}")
    blocks.append(section(Mrkdwn("\n".join(facts))))
    lines = evidence_lines(finding)
    if lines:
        blocks.append(section(Mrkdwn("*Evidence*\n" + "\n".join(lines))))
    if evidence_ref and finding.evidence:
        blocks.append(
            ActionsBlock(
                block_id="finding-evidence",
                elements=[
                    ButtonElement(
                        text=f"Show evidence ({len(finding.evidence)} queries)",
                        action_id=ActionId.FINDING_EVIDENCE.value,
                        value=evidence_ref,
                    )
                ],
            )
        )
    footer = [escape(engine_line(inv))] + [escape(_clip(n, 300)) for n in finding.notes[:4]]
    blocks.append(context(join(footer, lit("\n"))))
    return blocks


def evidence_modal(evidence: list[Evidence] | None) -> View:
    """The raw evidence: each tool call's exact query and what it returned, with its link."""
    blocks: list[Block] = []
    if evidence is None:
        blocks.append(section(lit("This evidence is no longer kept (it is kept for two weeks).")))
    for item in (evidence or [])[:MAX_MODAL_ITEMS]:
        query = escape(_clip(item.query, 2000)).replace("```", "\u2018\u2018\u2018")
        excerpt = escape(_clip(item.excerpt, 600))
        head = f"*{escape(item.tool)}* · {_link(item.link, source_name(item))}"
        head += f" · {item.observed_at:%Y-%m-%d %H:%M:%S} UTC"
        text = f"{head}\n```{query}```" + (f"\n{excerpt}" if excerpt else "")
        blocks.append(section(Mrkdwn(text)))
        blocks.append(DividerBlock())
    if evidence and len(evidence) > MAX_MODAL_ITEMS:
        blocks.append(context(Mrkdwn(f"… and {len(evidence) - MAX_MODAL_ITEMS} more.")))
    return View(
        type="modal",
        title=PlainTextObject(text="Evidence"),
        close=PlainTextObject(text="Close"),
        blocks=blocks or [section(lit("No evidence."))],
    )
