"""The log digest puts what an on-call must read first: errors and new templates above
routine traffic that rose; examples once each; a chart whose red means error lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.analysis.logmine.analysis import LogAnalysis, SampledLine
from bot.analysis.logmine.findings import NewTemplate, RateJump, TemplateCount, WindowFindings
from bot.analysis.logmine.sampling import Level
from bot.digests.log_digest import blocks_for, chart_rows, examples, log_window
from bot.digests.log_summary import pattern_summary

AT = datetime(2026, 12, 7, 0, 16, 42, tzinfo=UTC)


def count(service: str, tid: str, template: str, level: Level, n: int) -> TemplateCount:
    return TemplateCount(service=service, template_id=tid, template=template, level=level, count=n)


def jump(service: str, tid: str, template: str, n: int, ratio: float) -> RateJump:
    return RateJump(
        service=service,
        template_id=tid,
        template=template,
        count=n,
        baseline_mean=n / ratio,
        ratio=ratio,
        p_value=0.001,
    )


def incident_hour() -> LogAnalysis:
    nil = "panic: nil pointer dereference in <*>"
    ok = "request handled method=POST path=<*> status=<*>"
    oom = "java.lang.OutOfMemoryError: Java heap space"
    counts = [
        count("checkout", "ok", ok, Level.INFO, 600),
        count("frontend", "ok2", "request completed: POST <*>", Level.INFO, 500),
        count("checkout", "nil", nil, Level.ERROR, 40),
        count("checkout", "ok", ok, Level.ERROR, 30),  # the same template, some lines errors
        count("payments", "oom", oom, Level.FATAL, 5),
    ]
    return LogAnalysis(
        stream="logs-*",
        window_start=AT,
        window_end=AT,
        services=["checkout", "frontend", "payments"],
        total=1175,
        mined=1175,
        skipped=0,
        by_level={"INFO": 1100, "ERROR": 70, "FATAL": 5},
        baseline_windows=6,
        templates={"ok": ok, "ok2": "request completed: POST <*>", "nil": nil, "oom": oom},
        counts=counts,
        findings=WindowFindings(
            new_templates=[
                NewTemplate(service="payments", template_id="oom", template=oom, count=5)
            ],
            rate_jumps=[
                jump("frontend", "ok2", "request completed: POST <*>", 500, 22),
                jump("checkout", "nil", nil, 40, 8),
                jump("inventory", "inv", "GET /stock <*>", 300, 9),
            ],
            top_errors={"checkout": [count("checkout", "nil", nil, Level.ERROR, 40)]},
        ),
        sampled=[
            SampledLine(
                timestamp=AT,
                service="checkout",
                level=Level.ERROR,
                template_id="nil",
                reason=reason,
                message="panic: nil pointer dereference in charge()",
            )
            for reason in ("error", "first")
        ],
        dropped={},
    )


def test_an_on_demand_run_covers_the_last_60_minutes_a_scheduled_one_the_last_full_hour() -> None:
    asked = log_window(AT, on_demand=True)
    assert (asked.start.isoformat(), asked.end.isoformat()) == (
        "2026-12-06T23:16:00+00:00",
        "2026-12-07T00:16:00+00:00",
    )
    scheduled = log_window(AT, on_demand=False)
    assert (scheduled.start.hour, scheduled.end.hour, scheduled.end.minute) == (23, 0, 0)


def test_errors_and_new_templates_come_before_routine_traffic_that_rose() -> None:
    summary = pattern_summary(incident_hour(), slack=False)
    assert summary[0].startswith("checkout logged 40 errors like panic: nil pointer")
    assert summary[0].endswith("jumped to 40 lines (8x its usual 5.0 per window)")
    assert sum("nil pointer" in line for line in summary) == 1  # each template named once
    assert "new template" in summary[1]
    assert "OutOfMemoryError" in summary[1]
    assert (
        summary[-1] == "Routine traffic rose: 2 non-error templates up 9-22x (frontend, inventory)"
    )
    shown = json.dumps(
        [b.to_dict() for b in blocks_for(incident_hour(), summary, "UTC", "pattern engine").blocks]
    )
    body = shown.split('"divider"')[1]  # the sections below the facts
    assert body.index("*Top errors by service*") < body.index("*New templates*")
    assert body.index("*New templates*") < body.index("*Spiking*")
    spiking = body.split("*Spiking*")[1]
    assert "request completed" not in spiking  # routine spikes are one line, not a list
    assert "routine traffic rose: 2 non-error templates" in spiking


def test_each_example_line_is_shown_once() -> None:
    [text] = examples(incident_hour())
    assert text.count("nil pointer dereference in charge()") == 1


def test_the_chart_shows_the_error_templates_and_red_means_error_lines_only() -> None:
    rows = chart_rows(incident_hour(), limit=3)
    labels = [(label.split(": ", 1)[1][:16], error) for label, _, error in rows]
    assert ("panic: nil point", True) in labels
    assert all(not error for label, error in labels if label.startswith("request"))
