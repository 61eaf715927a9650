"""What a log window says, in sentences: by the pattern engine (deterministic, always), or
by the small model reading the window's templates in batches of up to 80 per call.

Templates are already masked by the miner; they are redacted again (tokens, keys, emails)
before the model sees them, and the model answers through one forced tool so the reply
has a fixed shape. Each call is recorded in the cost ledger (workflow `log_summary`).
Masked contact data in the model's reply comes back only with `reveal_redacted` on, as in
the agent's answers; credentials and card numbers never do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bot.analysis.logmine import RateJump, TemplateCount
from bot.analysis.logmine.analysis import LogAnalysis
from bot.investigation.agent.llm import LLM, TokenUsage
from bot.investigation.agent.prompts import fenced_log_templates
from bot.investigation.agent.redaction import Redactor
from bot.slack.text import Mrkdwn, escape

BATCH = 80
TOOL_NAME = "record_log_summary"
SYSTEM = (
    "You are an SRE reading log templates mined from one time window (variables are <*>). "
    "Each line: id, service, level, count, flags (new = never seen before, spike = rate "
    "jumped, error), template. Say in at most three short sentences what matters for the "
    "on-call engineer, and list the template ids worth a look with one reason each. Report "
    "through the record_log_summary tool."
)
SUMMARY_TOOL: dict[str, Any] = {
    "name": TOOL_NAME,
    "description": "Record what this batch of log templates says.",
    "input_schema": {
        "type": "object",
        "properties": {
            "overview": {"type": "string", "description": "At most three sentences."},
            "notable": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "template_id": {"type": "string"},
                        "why": {"type": "string"},
                    },
                    "required": ["template_id", "why"],
                },
            },
        },
        "required": ["overview"],
    },
}


def shown(text: str, redactor: Redactor, *, reveal: bool) -> str:
    """Log text as people see it: credentials and card numbers always masked (the miner
    leaves a `Bearer` token without digits alone), contact data only when `reveal`."""
    masked = redactor.redact(text)
    return redactor.reveal(masked) if reveal else masked


def short(template: str, limit: int = 90) -> Mrkdwn:
    """A template as shown in a digest: masked, backticks made harmless, escaped, clipped."""
    text = shown(template, Redactor(), reveal=False).replace("`", "'")
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def jump_text(jump: RateJump) -> str:
    if jump.baseline_mean == 0:
        return f"appeared with {jump.count:,} lines (none in the baseline windows)"
    return (
        f"jumped to {jump.count:,} lines ({jump.ratio:.0f}x its usual "
        f"{jump.baseline_mean:.1f} per window)"
    )


ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL"})


def error_templates(analysis: LogAnalysis) -> set[str]:
    """Ids of the templates with error-level lines in the window."""
    return {c.template_id for c in analysis.counts if c.level.value in ERROR_LEVELS}


def ranked_jumps(analysis: LogAnalysis) -> tuple[list[RateJump], list[RateJump]]:
    """Rate jumps split into errors (worth reading first) and routine traffic that rose."""
    errors = error_templates(analysis)
    jumps = analysis.findings.rate_jumps
    return [j for j in jumps if j.template_id in errors], [
        j for j in jumps if j.template_id not in errors
    ]


def routine_text(routine: list[RateJump]) -> str:
    """Routine templates that rose, in one line: how many, by how much, which services."""
    ratios = [j.ratio for j in routine if j.baseline_mean > 0]
    services = sorted({j.service for j in routine})
    span = (
        f"{min(ratios):.0f}-{max(ratios):.0f}x"
        if len(ratios) > 1 and round(min(ratios)) != round(max(ratios))
        else f"{ratios[0]:.0f}x"
        if ratios
        else "from nothing"
    )
    count = len(routine)
    return (
        f"routine traffic rose: {count} non-error template{'' if count == 1 else 's'} "
        f"up {span} ({', '.join(services[:4])}{', …' if len(services) > 4 else ''})"
    )


def pattern_summary(analysis: LogAnalysis, *, slack: bool = True) -> list[str]:
    """The pattern engine's reading of the window, most worth reading first: errors, new
    templates, error spikes, and routine traffic that rose in one line at the end; Slack
    mrkdwn, or plain text for a terminal (`slack=False`)."""

    def who(service: str) -> str:
        return f"*{escape(service)}*" if slack else service

    def what(template: str) -> str:
        return f"`{short(template)}`" if slack else template

    findings = analysis.findings
    lines: list[str] = []
    top_errors = sorted(
        ((s, t) for s, items in findings.top_errors.items() for t in items),
        key=lambda st: -st[1].count,
    )
    told: set[str] = set()  # templates already named: each is named once
    jumped = {j.template_id: j for j in findings.rate_jumps}
    for service, item in top_errors[:2]:
        line = f"{who(service)} logged {item.count:,} errors like {what(item.template)}"
        if item.template_id in jumped:
            line += f": {jump_text(jumped[item.template_id])}"
        lines.append(line)
        told.add(item.template_id)
    if findings.new_templates:
        fresh = [t for t in findings.new_templates if t.template_id not in told]
        count = len(findings.new_templates)
        text = f"{count} new template{'' if count == 1 else 's'}"
        if fresh:
            top = max(fresh, key=lambda t: t.count)
            text += (
                f"; the most frequent: {who(top.service)} {what(top.template)} "
                f"({top.count:,} lines)"
            )
            told.add(top.template_id)
        lines.append(text)
        told |= {t.template_id for t in findings.new_templates}
    error_jumps, routine = ranked_jumps(analysis)
    lines += [
        f"{who(jump.service)}: errors {what(jump.template)} {jump_text(jump)}"
        for jump in [j for j in error_jumps if j.template_id not in told][:2]
    ]
    if routine:
        text = routine_text(routine)
        lines.append(text[0].upper() + text[1:])
    if not lines:
        lines.append("Nothing new or unusual against the baseline windows.")
    return lines


def _flags(item: TemplateCount, new: set[str], spikes: set[str]) -> str:
    flags = [
        name
        for name, on in (("new", item.template_id in new), ("spike", item.template_id in spikes))
        if on
    ]
    if item.level.value in ("ERROR", "CRITICAL", "FATAL"):
        flags.append("error")
    return ",".join(flags) or "-"


def model_summary(
    analysis: LogAnalysis,
    llm: LLM,
    model: str,
    on_usage: Callable[[str, TokenUsage], None],
    *,
    reveal: bool = False,
    redact_patterns: Iterable[str] = (),
    batch: int = BATCH,
    timeout: float = 60.0,
) -> list[str]:
    """One model call per batch of templates (most telling first); overviews in order.
    `reveal` and `redact_patterns` are the LLM settings `reveal_redacted` and
    `redact_patterns`."""
    new = {t.template_id for t in analysis.findings.new_templates}
    spikes = {j.template_id for j in analysis.findings.rate_jumps}
    ordered = sorted(
        analysis.counts,
        key=lambda t: (
            t.template_id not in spikes,
            t.template_id not in new,
            t.level.value not in ("ERROR", "CRITICAL", "FATAL"),
            -t.count,
        ),
    )
    redactor = Redactor(redact_patterns)
    overviews: list[str] = []
    for first in range(0, len(ordered), batch):
        chunk: Sequence[TemplateCount] = ordered[first : first + batch]
        table = "\n".join(
            f"{t.template_id}\t{t.service}\t{t.level.value}\t{t.count}\t"
            f"{_flags(t, new, spikes)}\t{redactor.redact(t.template)}"
            for t in chunk
        )
        reply = llm.create(
            model=model,
            system=[{"type": "text", "text": SYSTEM}],
            tools=[SUMMARY_TOOL],
            messages=[{"role": "user", "content": fenced_log_templates(table)}],
            tool_choice={"type": "tool", "name": TOOL_NAME},
            max_tokens=1024,
            timeout=timeout,
        )
        on_usage(reply.model, reply.usage)
        used = next((b for b in reply.tool_uses if b.get("name") == TOOL_NAME), None)
        data = used.get("input", {}) if used else {}
        overview = str(data.get("overview", "")).strip() if isinstance(data, dict) else ""
        if overview:
            overviews.append(escape(redactor.reveal(overview) if reveal else overview))
    return overviews
