"""Hourly log digest: the last full hour against the hours before it
(`bot.analysis.logmine.analysis`).

New templates, templates whose rate jumped, top error templates per service, what the
sampler kept; a summary by the small model when Claude is configured and within budget,
else by the pattern engine. Chart: the window's top templates. Thread: example lines.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.analysis.logmine.analysis import LogAnalysis, analyse_logs
from bot.digests import charts
from bot.digests.log_summary import (
    ERROR_LEVELS,
    jump_text,
    model_summary,
    pattern_summary,
    ranked_jumps,
    routine_text,
    short,
    shown,
)
from bot.digests.output import (
    Chart,
    DigestOutput,
    DigestRequest,
    bullet_list,
    context,
    divider,
    facts,
    header,
    period_text,
    section,
    utc,
)
from bot.investigation.agent.cost import Ledger, budgets, exhausted
from bot.investigation.agent.llm import LLMUnavailable, TokenUsage
from bot.investigation.agent.redaction import Redactor
from bot.investigation.agent.request import InvestigationRequest, Workflow
from bot.investigation.investigator import llm_from
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.settings import DigestSettings, LLMSettings
from bot.slack.text import Mrkdwn, code, escape
from bot.store.db import Database
from tools.config import LogSearchConfig
from tools.logs.client import build_search_client
from tools.timewindow import TimeWindow

log = get_logger("opsbot.digests.logs")
TOP_TEMPLATES = 10


def hour_before(now: datetime) -> TimeWindow:
    """The last full hour before `now` (what a scheduled run reports)."""
    end = utc(now).replace(minute=0, second=0, microsecond=0)
    return TimeWindow(end - timedelta(hours=1), end)


def log_window(now: datetime, *, on_demand: bool) -> TimeWindow:
    """A scheduled run reports the last full hour; a run on demand the 60 minutes up to
    the minute it was asked for (at 00:16, 23:16-00:16, not 23:00-00:00)."""
    if not on_demand:
        return hour_before(now)
    end = utc(now).replace(second=0, microsecond=0)
    return TimeWindow(end - timedelta(hours=1), end)


def blocks_for(
    analysis: LogAnalysis, summary: list[str], zone: str, engine: str, *, reveal: bool = False
) -> DigestOutput:
    findings = analysis.findings
    new = [
        Mrkdwn(f"*{escape(t.service)}* `{short(t.template)}` x{t.count}")
        for t in sorted(findings.new_templates, key=lambda t: -t.count)
    ]
    error_jumps, routine = ranked_jumps(analysis)
    spikes = [
        Mrkdwn(f"*{escape(j.service)}* `{short(j.template)}` {jump_text(j)}") for j in error_jumps
    ]
    if routine:
        spikes.append(Mrkdwn(f"_{escape(routine_text(routine))}_"))
    errors = [
        Mrkdwn(
            f"*{escape(service)}*: "
            + "; ".join(f"`{short(t.template, 70)}` x{t.count}" for t in items[:3])
        )
        for service, items in findings.top_errors.items()
    ]
    kept = len(analysis.sampled)
    dropped = sum(n for levels in analysis.dropped.values() for n in levels.values())
    errors_total = sum(
        n for lvl, n in analysis.by_level.items() if lvl.lower() in ("error", "fatal", "critical")
    )
    text = (
        f"Log digest: {analysis.total:,} lines, {errors_total:,} errors, "
        f"{len(findings.new_templates)} new templates, {len(error_jumps)} error spikes"
    )
    blocks = [
        header("Hourly log digest"),
        context(
            Mrkdwn(
                f"{escape(period_text(analysis.window_start, analysis.window_end, zone))} · "
                f"{code(analysis.stream)} · compared with {analysis.baseline_windows} earlier "
                "windows of the same length"
            )
        ),
        facts(
            [
                ("Lines", f"{analysis.total:,} ({errors_total:,} errors)"),
                ("Templates", str(len(analysis.templates))),
                ("New templates", str(len(findings.new_templates))),
                (
                    "Spiking templates",
                    f"{len(error_jumps)} with errors, {len(routine)} routine",
                ),
            ]
        ),
        # summary lines are escaped where they are made (bot.digests.log_summary)
        section(Mrkdwn(f"*Summary* ({escape(engine)})\n" + "\n".join(summary))),
        divider(),
        section(Mrkdwn("*Top errors by service*\n" + bullet_list(errors, "no errors", limit=6))),
        section(Mrkdwn("*New templates*\n" + bullet_list(new, "no new templates", limit=5))),
        section(Mrkdwn("*Spiking*\n" + bullet_list(spikes, "no template jumped", limit=6))),
        context(
            escape(
                f"Read {analysis.mined:,} lines"
                + (
                    f" ({analysis.skipped:,} over the budget, counted only)"
                    if analysis.skipped
                    else ""
                )
                + f"; the sampler kept {kept:,} (every error and security line, the first of "
                f"each template) and dropped {dropped:,} routine lines."
            )
        ),
    ]
    return DigestOutput(text=text, blocks=blocks, thread=examples(analysis, reveal=reveal))


def examples(analysis: LogAnalysis, *, reveal: bool = False) -> list[str]:
    """Example lines of the new and spiking templates, for the thread: credentials masked,
    contact data too unless `reveal` (the `reveal_redacted` setting)."""
    redactor = Redactor()
    error_jumps, routine = ranked_jumps(analysis)
    top_errors = [t.template_id for items in analysis.findings.top_errors.values() for t in items]
    wanted = (
        top_errors[:3]
        + [t.template_id for t in analysis.findings.new_templates[:3]]
        + [j.template_id for j in error_jumps[:3]]
        + [j.template_id for j in routine[:1]]
    )
    lines: list[str] = []
    for template_id in dict.fromkeys(wanted):
        sample = [s for s in analysis.sampled if s.template_id == template_id]
        picked = 0
        for line in sample:
            text = shown(line.message[:300], redactor, reveal=reveal)
            row = f"`{escape(line.service)}` {escape(text)}"
            if row in lines:  # the same line sampled twice (as an error and as a first)
                continue
            lines.append(row)
            picked += 1
            if picked == 2:
                break
    return ["*Example lines*\n" + "\n".join(lines)] if lines else []


def summarise(
    ledger: Ledger, settings: LLMSettings, analysis: LogAnalysis, now: datetime
) -> tuple[list[str], str]:
    """The model's summary when Claude is set up (`settings`) and within budget (`ledger`,
    which also records the call), else the pattern engine's; with the engine's name."""
    llm = llm_from(settings)
    if llm is None:
        return pattern_summary(analysis), "pattern engine"
    request = InvestigationRequest(workflow=Workflow.LOG_QUERY, question="log digest", now=now)
    try:
        found = budgets(ledger, now, settings.daily_budget_usd, settings.monthly_budget_usd)
        if exhausted(found) is not None:
            return pattern_summary(analysis), "pattern engine (AI budget spent)"

        def record(model: str, usage: TokenUsage) -> None:
            ledger.record(request, "log_summary", model, usage)

        summary = model_summary(
            analysis,
            llm,
            settings.small_model,
            record,
            reveal=settings.reveal_redacted,
            redact_patterns=settings.redact_patterns,
        )
        return summary or pattern_summary(analysis), settings.small_model
    except LLMUnavailable as exc:
        log.warning("log summary by the model failed", reason=exc.reason)
        return pattern_summary(analysis), f"pattern engine ({exc.reason})"
    finally:
        llm.close()


def build(
    db: Database,
    metrics: Metrics,
    config: LogSearchConfig | None,
    settings: DigestSettings,
    llm: LLMSettings,
    request: DigestRequest,
) -> DigestOutput:
    """The digest of the log store (`config`; None: skipped) over the window `request` asks
    for, against the templates remembered in `db`, summarised by `summarise` (a model call
    goes in the cost ledger: `db` and `metrics`)."""
    if config is None:
        return DigestOutput(text="", blocks=[], skipped="no log store configured")
    client = build_search_client(config)
    try:
        analysis = analyse_logs(
            db,
            client,
            config,
            log_window(request.now, on_demand=request.on_demand),
            baseline_windows=settings.log_baseline_windows,
            max_lines=settings.log_max_lines,
        )
    finally:
        client.close()
    ledger = Ledger(db, metrics, llm.price_table)
    summary, engine = summarise(ledger, llm, analysis, request.now)
    output = blocks_for(analysis, summary, settings.timezone, engine, reveal=llm.reveal_redacted)
    output.charts = [top_templates_chart(analysis)] if analysis.counts else []
    return output


def chart_rows(analysis: LogAnalysis, limit: int = TOP_TEMPLATES) -> list[tuple[str, int, bool]]:
    """The chart's bars: (label, lines, is error). Error lines and other lines of one
    template are separate bars, so red means errors only; the biggest error templates are
    always on the chart, whatever routine traffic did."""
    totals: dict[tuple[str, bool], int] = {}
    for item in analysis.counts:
        error = item.level.value in ERROR_LEVELS
        key = (f"{item.service}: {item.template}", error)
        totals[key] = totals.get(key, 0) + item.count
    ranked = sorted(totals, key=lambda k: (-totals[k], k))
    errors = [k for k in ranked if k[1]][: limit // 3 or 1]
    top = errors + [k for k in ranked if k not in errors][: limit - len(errors)]
    top.sort(key=lambda k: (-totals[k], k))
    return [(label, totals[(label, error)], error) for label, error in top]


def top_templates_chart(analysis: LogAnalysis) -> Chart:
    rows = chart_rows(analysis)
    return Chart(
        "top-templates.png",
        "Top log templates",
        charts.hbar_chart(
            [label for label, _, _ in rows],
            [count for _, count, _ in rows],
            title="Top log templates in the window (error lines in red)",
            xlabel="lines",
            highlight=[error for _, _, error in rows],
        ),
        "Bar chart of the most frequent log templates; error lines in red",
    )
