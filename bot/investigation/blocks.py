"""Pure Block Kit builders for investigation answers: the finding, its proposals, the
evidence with links and queries, and a footer naming the engine, tokens and cost."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.investigation.agent.finding import Engine, Investigation
from bot.slack.blocks import escape

MAX_EVIDENCE = 6
MAX_QUERY_CHARS = 600
MAX_SECTION_CHARS = 2900


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


def placeholder_blocks(question: str) -> list[Block]:
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f":hourglass_flowing_sand: Investigating: _{escape(_clip(question, 500))}_"
            )
        )
    ]


def finding_text(inv: Investigation) -> str:
    """The plain-text form (notifications, and the history the next question sees). Slack
    reads a message's `text` as mrkdwn too, so it is escaped like the blocks."""
    finding = inv.finding
    lines = [finding.summary, f"Root cause: {finding.root_cause}"]
    lines += [f"Proposed: {p.kind} {p.target} ({p.reason})" for p in finding.proposals]
    lines += [f"Recommended: {r}" for r in finding.recommendations]
    return _clip(escape("\n".join(lines)), 3000)


def finding_blocks(inv: Investigation, title: str = "Investigation") -> list[Block]:
    finding = inv.finding
    body = (
        f"*{escape(title)}* · confidence {finding.confidence:.0%}\n"
        f"{escape(finding.summary)}\n*Root cause:* {escape(finding.root_cause)}"
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=_clip(body, MAX_SECTION_CHARS)))
    ]
    if finding.proposals:
        rows = "\n".join(
            f"• `{p.kind}` {escape(str(p.target))}" + (f" — {escape(p.reason)}" if p.reason else "")
            for p in finding.proposals
        )
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=_clip(
                        "*Proposed actions* (each goes through policy and approval)\n" + rows,
                        MAX_SECTION_CHARS,
                    )
                )
            )
        )
    if finding.recommendations:
        rows = "\n".join(f"• {escape(r)}" for r in finding.recommendations)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=_clip("*Recommendations*\n" + rows, MAX_SECTION_CHARS))
            )
        )
    if finding.changes:
        rows = "\n".join(
            f"• {escape(c.describe())} at {c.at:%Y-%m-%d %H:%M}Z (score {c.score:g})"
            for c in finding.changes[:5]
        )
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=_clip("*Metrics that changed*\n" + rows, MAX_SECTION_CHARS)
                )
            )
        )
    if finding.evidence:
        blocks.append(DividerBlock())
        for item in finding.evidence[:MAX_EVIDENCE]:
            name = f"<{item.link}|{escape(item.tool)}>" if item.link else escape(item.tool)
            query = escape(_clip(item.query, MAX_QUERY_CHARS)).replace("```", "'''")
            excerpt = escape(_clip(item.excerpt, 300))
            text = f"*{name}*\n```{query}```" + (f"\n{excerpt}" if excerpt else "")
            blocks.append(
                SectionBlock(text=MarkdownTextObject(text=_clip(text, MAX_SECTION_CHARS)))
            )
        if len(finding.evidence) > MAX_EVIDENCE:
            more = len(finding.evidence) - MAX_EVIDENCE
            blocks.append(
                ContextBlock(
                    elements=[MarkdownTextObject(text=f"… and {more} more evidence items.")]
                )
            )
    notes = [escape(_clip(n, 300)) for n in finding.notes[:4]]
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text=_clip(escape(engine_line(inv)), 2900))])
    )
    if notes:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=_clip("\n".join(notes), 2900))])
        )
    return blocks
