"""Weekly performance report: the trace analysis of `bot.analysis.traces.report` over the lookback
(default 7 days) with the service dependency graph, recommendations with confidence and
evidence trace links, and (when a GitHub token and repository are set) the top findings
filed as GitHub issues. Charts: the dependency graph, the slowest operations by p95.

A dependency is called slow only when the change is significant against the series' own
variance and large enough to matter (`SLOW_DEPENDENCY_RULE`): the slow traces' median time in
it must sit at least 3 standard errors of the medians (from each series' median absolute
deviation) above the other traces', and it must add at least 50 ms and 10 % of the slow
traces' p95. The rule is stated in the digest's footer, with what was looked at and not
reported. Every duration is shown in one unit scheme (`duration_text`: ms below a second)."""

from __future__ import annotations

from datetime import timedelta

from bot.analysis.traces.advice import SLOW_DEPENDENCY_RULE, duration_text
from bot.analysis.traces.report import GitHubIssues, TraceReport, file_issues, trace_report
from bot.digests import charts
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
from bot.errors import DependencyDown
from bot.logs import get_logger
from bot.settings import DigestSettings
from bot.slack.text import Mrkdwn, code, escape, join, link, lit
from tools.config import JaegerConfig
from tools.timewindow import TimeWindow
from tools.traces.api import JaegerApi
from tools.traces.links import trace_url

log = get_logger("opsbot.digests.performance")


def evidence_links(ids: list[str], ui_url: str, limit: int = 3) -> Mrkdwn:
    """Links to the first traces behind a recommendation (trace ids are untrusted)."""
    return join((link(trace_url(ui_url, i), i[:8]) for i in ids[:limit]), lit(", "))


def blocks_for(report: TraceReport, ui_url: str, zone: str) -> DigestOutput:
    advice = [
        Mrkdwn(
            f"*{escape(r.title)}* ({r.confidence:.0%} confidence)\n{escape(r.detail)}\n"
            f"Evidence: {evidence_links(r.evidence, ui_url)}"
        )
        for r in report.recommendations
    ]
    edges = sorted(report.edges, key=lambda e: -e.p95_ms)
    edge_lines = [
        Mrkdwn(
            f"{escape(e.caller)} → {escape(e.callee)}: p95 {duration_text(e.p95_ms)} · "
            f"{e.calls} calls · {e.error_rate:.1%} errors"
        )
        for e in edges
    ]
    slowest = [
        Mrkdwn(
            f"{escape(o.service)} {code(o.operation)}: p95 {duration_text(o.p95_us / 1000)} "
            f"(p50 {duration_text(o.p50_us / 1000)}, {o.count} spans)"
        )
        for o in report.operations[:5]
    ]
    text = (
        f"Performance report: {report.trace_count} traces, "
        f"{len(report.recommendations)} recommendations"
    )
    blocks = [
        header("Weekly performance report"),
        context(
            Mrkdwn(
                f"{escape(period_text(report.window_start, report.window_end, zone))} · "
                "services: " + ", ".join(escape(s) for s in report.services)
            )
        ),
        facts(
            [
                ("Traces analysed", str(report.trace_count)),
                (
                    "Slow traces",
                    (f"{len(report.slow_trace_ids)} (≥ {duration_text(report.slow_threshold_ms)})"),
                ),
                ("Service calls", str(len(report.edges))),
                ("Recommendations", str(len(report.recommendations))),
            ]
        ),
        divider(),
        *[section(item) for item in advice[:5]],
        section(
            Mrkdwn(
                "*Calls between services (slowest p95 first)*\n"
                + bullet_list(edge_lines, "no calls", 8)
            )
        ),
        section(Mrkdwn("*Slowest operations*\n" + bullet_list(slowest, "no spans"))),
        context(escape(" ".join([SLOW_DEPENDENCY_RULE, *(f"{n}." for n in report.notes)]))),
    ]
    if not advice:
        blocks.insert(4, section(lit("_No recommendation: nothing stood out in this window._")))
    return DigestOutput(text=text, blocks=blocks)


def file_findings(settings: DigestSettings, report: TraceReport, ui_url: str) -> list[str]:
    """File the top findings on GitHub when a token and a repository are configured."""
    if settings.github_token is None or settings.github_repo is None:
        return []
    github = GitHubIssues(
        settings.github_token.get_secret_value(), settings.github_repo, settings.github_api_url
    )
    try:
        urls = file_issues(report, github, limit=settings.github_max_issues, jaeger_ui=ui_url)
    except DependencyDown as exc:
        log.warning("filing trace findings failed", error=str(exc))
        return [f":warning: Filing the findings on GitHub failed: {escape(str(exc))}"]
    finally:
        github.close()
    return [f"Filed on GitHub: {url}" for url in urls]


def build(
    config: JaegerConfig | None, settings: DigestSettings, request: DigestRequest
) -> DigestOutput:
    """The report of the traces in Jaeger (`config`; None: skipped) over the lookback the
    digest settings give, its findings filed on GitHub when they name a repository."""
    if config is None:
        return DigestOutput(text="", blocks=[], skipped="no Jaeger configured")
    end = utc(request.now)
    window = TimeWindow(end - timedelta(hours=settings.trace_lookback_hours), end)
    api = JaegerApi(config)
    try:
        report = trace_report(
            api, settings.service_list, window, max_traces=settings.trace_max_traces
        )
    finally:
        api.close()
    ui_url = config.ui_url or config.url
    output = blocks_for(report, ui_url, settings.timezone)
    output.thread = file_findings(settings, report, ui_url)
    slowest = report.operations[:10]
    output.charts = [
        Chart(
            "service-dependencies.png",
            "Service dependency graph",
            charts.dependency_graph(report.edges, title="Service calls: calls · error rate · p95"),
            "Graph of the services and the calls between them",
        ),
        Chart(
            "slowest-operations.png",
            "Slowest operations",
            charts.hbar_chart(
                [f"{o.service} {o.operation}" for o in slowest],
                [o.p95_us / 1000 for o in slowest],
                title="Slowest operations by p95 (ms)",
                xlabel="ms",
            ),
            "Bar chart of the slowest operations",
        ),
    ]
    return output
