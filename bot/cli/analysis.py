"""`opsbot logs analyze`, `opsbot traces analyze` and `opsbot digest run|list`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from slack_sdk import WebClient
from sqlmodel import col, select

from bot.deps import Deps
from bot.errors import BadInput, ConfigError, DependencyDown
from bot.settings import Settings, load_settings
from tools.base import ToolFailure
from tools.timewindow import TimeWindow, parse_duration

logs_cli = typer.Typer(help="Log analysis.", no_args_is_help=True)
traces_cli = typer.Typer(help="Trace analysis.", no_args_is_help=True)
digest_cli = typer.Typer(help="Scheduled digests.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
Since = Annotated[str, typer.Option(help="How far back: 30m, 1h, 24h, 7d...")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        err.print(f"[red]opsbot: {exc}[/red]")
        raise typer.Exit(2) from None


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]opsbot: {message}[/red]")
    return typer.Exit(code)


def _window(since: str) -> TimeWindow:
    try:
        span = parse_duration(since)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    return TimeWindow(end - span, end)


class PhaseProgress:
    """A rich progress bar per phase (each baseline window, then the window itself)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: int, expected: int) -> None:
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(phase, total=max(expected, 1))
        task = self.tasks[phase]
        self.progress.update(task, completed=done, total=max(expected, done, 1))


@logs_cli.command("analyze")
def logs_analyze(
    since: Since = "1h",
    service: Annotated[list[str] | None, typer.Option(help="Only these services.")] = None,
    baseline: Annotated[int | None, typer.Option(help="Earlier windows to compare.")] = None,
    max_lines: Annotated[int | None, typer.Option(help="Most lines read per window.")] = None,
    as_json: AsJson = False,
) -> None:
    """Mine the window's log templates and compare them with the windows before it."""
    from bot.analysis.logmine.analysis import analyse_logs
    from bot.digests.log_summary import pattern_summary
    from bot.sources import tools_config
    from bot.store.db import Database
    from tools.logs.client import build_search_client

    settings = _settings()
    config = tools_config(settings.tools).logs
    if config is None:
        raise _fail("OPSBOT_LOGS_URL is not set: there is no log store to read", 2)
    db = Database(settings.database)
    db.upgrade()
    client = build_search_client(config)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, TimeElapsedColumn(), console=err, transient=as_json) as bar:
            analysis = analyse_logs(
                db,
                client,
                config,
                _window(since),
                services=service or (),
                baseline_windows=baseline or settings.digest.log_baseline_windows,
                max_lines=max_lines or settings.digest.log_max_lines,
                progress=PhaseProgress(bar),
            )
    except ToolFailure as exc:
        raise _fail(exc.message) from None
    finally:
        client.close()
        db.dispose()
    if as_json:
        print(analysis.model_dump_json(indent=2))
        return
    console.print(
        f"[bold]{analysis.total:,} lines[/bold] in {analysis.window_start:%Y-%m-%d %H:%M} to "
        f"{analysis.window_end:%H:%M} UTC, {len(analysis.templates)} templates, "
        f"{analysis.mined:,} read, against {analysis.baseline_windows} earlier windows"
    )
    for line in pattern_summary(analysis, slack=False):
        console.print("• " + line, markup=False, highlight=False)
    findings = analysis.findings
    table = Table("finding", "service", "count", "detail", "template")
    for jump in findings.rate_jumps[:10]:
        detail = f"x{jump.ratio:.0f} (baseline {jump.baseline_mean:.1f})"
        table.add_row("spike", jump.service, str(jump.count), detail, jump.template)
    for new in findings.new_templates[:10]:
        table.add_row("new", new.service, str(new.count), "", new.template)
    for svc, items in findings.top_errors.items():
        for item in items[:3]:
            table.add_row("error", svc, str(item.count), str(item.level), item.template)
    console.print(table)


@traces_cli.command("analyze")
def traces_analyze(
    service: Annotated[list[str] | None, typer.Option(help="Services (default: all).")] = None,
    since: Since = "24h",
    max_traces: Annotated[int | None, typer.Option(help="Traces fetched per service.")] = None,
    min_duration: Annotated[
        str | None, typer.Option(help="Slow means longer than this (e.g. 500ms); default p90.")
    ] = None,
    slowest_per_operation: Annotated[
        int, typer.Option(help="Instead: the slowest N traces of each operation.")
    ] = 0,
    file_issues: Annotated[
        bool, typer.Option("--file-issues", help="File the top findings on GitHub.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Find slow traces, their bottlenecks, N+1 queries, serial calls and error hot spots."""
    from bot.analysis.traces.report import SlowSelection, trace_report
    from bot.digests.performance import file_findings
    from bot.sources import tools_config
    from tools.traces.api import JaegerApi

    settings = _settings()
    config = tools_config(settings.tools).jaeger
    if config is None:
        raise _fail("OPSBOT_JAEGER_URL is not set: there is no Jaeger to read", 2)
    selection = SlowSelection(
        min_duration_us=_micros(min_duration) if min_duration else None,
        per_operation=slowest_per_operation,
    )
    api = JaegerApi(config)
    try:
        with console.status("fetching and analysing traces", spinner="dots"):
            report = trace_report(
                api,
                service or [],
                _window(since),
                max_traces=max_traces or settings.digest.trace_max_traces,
                selection=selection,
            )
    except ToolFailure as exc:
        raise _fail(exc.message) from None
    finally:
        api.close()
    filed = (
        file_findings(settings.digest, report, config.ui_url or config.url) if file_issues else []
    )
    if as_json:
        print(json.dumps({**report.model_dump(mode="json"), "filed": filed}, indent=2))
        return
    console.print(
        f"[bold]{report.trace_count} traces[/bold] of {', '.join(report.services)}; "
        f"{len(report.slow_trace_ids)} slow (>= {report.slow_threshold_ms:,.0f} ms)"
    )
    advice = Table("confidence", "finding", "evidence traces")
    for item in report.recommendations:
        advice.add_row(f"{item.confidence:.0%}", item.detail, "\n".join(item.evidence[:3]))
    console.print(advice)
    edges = Table("caller", "callee", "calls", "errors", "p50 ms", "p95 ms")
    for edge in report.edges:
        edges.add_row(
            edge.caller,
            edge.callee,
            str(edge.calls),
            f"{edge.error_rate:.1%}",
            f"{edge.p50_ms:,.1f}",
            f"{edge.p95_ms:,.1f}",
        )
    console.print(edges)
    for line in filed:
        console.print(line)


def _micros(duration: str) -> int:
    try:
        return int(parse_duration(duration).total_seconds() * 1_000_000)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None


def print_digest(deps: Deps, name: str, when: datetime | None, out: Path) -> None:
    """Render a digest without posting it: its text, its blocks' text, its thread, and the
    charts written as PNG files under `out`."""
    from bot.app.digests import build_digests
    from bot.digests.registry import digest_spec
    from bot.remediation.blocks import as_text

    spec = digest_spec(name)
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    output = build_digests(deps, WebClient()).build(spec.name, moment, trigger="cli", links=False)
    if output.skipped is not None:
        console.print(f"{spec.name}: nothing to post ({output.skipped})")
        return
    console.print(output.text, markup=False)
    console.print(as_text(output.blocks), markup=False)
    for reply in output.thread:
        console.print(reply, markup=False)
    out.mkdir(parents=True, exist_ok=True)
    for chart in output.charts:
        path = out / chart.filename
        path.write_bytes(chart.png)
        console.print(f"chart: {path}", markup=False)


@digest_cli.command("run")
def digest_run(
    name: Annotated[str, typer.Argument(help="incidents, logs, performance, cost-daily...")],
    at: Annotated[str | None, typer.Option(help="Report up to this time (ISO 8601).")] = None,
    print_only: Annotated[
        bool,
        typer.Option("--print", help="Render it here (text and chart files), do not post."),
    ] = False,
    out: Annotated[Path, typer.Option(help="With --print: where the chart PNG files go.")] = Path(
        "digest-charts"
    ),
) -> None:
    """Build one digest now and post it in its channel (or only print it)."""
    from bot.app.digests import build_digests
    from bot.deps import build_deps
    from bot.digests.registry import digest_spec

    settings = _settings()
    if settings.slack.bot_token is None and not print_only:
        raise _fail("SLACK_BOT_TOKEN is not set: the digest cannot be posted (try --print)", 2)
    when = None
    if at:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise _fail(f"--at {at!r} is not an ISO 8601 time, e.g. 2025-06-01T09:00Z", 2) from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    deps = build_deps(settings)
    if print_only:
        try:
            print_digest(deps, name, when, out)
        except BadInput as exc:
            raise _fail(str(exc), 2) from None
        finally:
            deps.close()
        return
    assert settings.slack.bot_token is not None
    client = WebClient(
        token=settings.slack.bot_token.get_secret_value(), base_url=settings.slack.api_url
    )
    digests = build_digests(deps, client)
    try:
        run = digests.run(name, when, trigger="cli")
    except BadInput as exc:
        raise _fail(str(exc), 2) from None
    except (DependencyDown, ToolFailure, LookupError) as exc:
        raise _fail(f"the {name} digest failed: {exc}") from None
    finally:
        deps.close()
    if run.status == "skipped":
        console.print(f"{run.digest}: nothing posted ({run.summary})")
        return
    channel = digests.channel(digest_spec(run.digest))
    console.print(
        f"{run.digest}: posted in #{channel.lstrip('#')} (ts {run.ts}, "
        f"{len(run.files)} chart{'' if len(run.files) == 1 else 's'})",
        markup=False,
    )


@digest_cli.command("list")
def digest_list() -> None:
    """The digests, their schedules and channels, their next and last runs."""
    from bot.digests.models import DigestRun
    from bot.digests.registry import digest_rows
    from bot.store.db import Database

    settings = _settings()
    db = Database(settings.database)
    db.upgrade()
    table = Table("digest", "schedule", "time zone", "channel", "next run", "last run")
    zone = settings.digest.timezone
    with db.session() as session:
        for row in digest_rows(settings.digest, settings.capacity, datetime.now(UTC)):
            last = session.exec(
                select(DigestRun)
                .where(DigestRun.digest == row.name)
                .order_by(col(DigestRun.started_at).desc())
            ).first()
            shown = f"{last.started_at:%Y-%m-%d %H:%M} {last.status}" if last else "never"
            upcoming = f"{row.next_run:%Y-%m-%d %H:%M %Z}" if row.next_run else "-"
            table.add_row(
                row.name,
                row.schedule or "off",
                zone,
                "#" + row.channel.lstrip("#"),
                upcoming,
                shown,
            )
    db.dispose()
    console.print(table)
