"""Window findings: new templates, rate jumps against a baseline, top errors per service."""

from __future__ import annotations

import math

from bot.analysis.logmine import Level, TemplateCount, new_templates, rate_jumps, window_findings
from bot.analysis.logmine.findings import poisson_upper_tail, top_error_templates


def count(
    template_id: str, n: int, *, service: str = "api", level: Level = Level.INFO
) -> TemplateCount:
    return TemplateCount(
        service=service,
        template_id=template_id,
        template=f"template {template_id}",
        level=level,
        count=n,
    )


BASELINE = [
    [count("login", 100), count("timeout", 10), count("gc", 3)],
    [count("login", 110), count("timeout", 12)],
    [count("login", 95), count("timeout", 8), count("gc", 1)],
]


def test_new_templates_are_those_absent_from_every_baseline_window() -> None:
    current = [count("login", 100), count("gc", 2), count("oom", 4), count("oom", 1, service="db")]
    found = new_templates(current, BASELINE)
    assert [(f.service, f.template_id, f.count) for f in found] == [
        ("api", "oom", 4),
        ("db", "oom", 1),
    ]


def test_nothing_is_new_without_a_baseline() -> None:
    assert new_templates([count("login", 5)], []) == []
    assert rate_jumps([count("login", 500)], []) == []


def test_a_rate_far_above_the_baseline_is_a_jump() -> None:
    jumps = rate_jumps([count("login", 104), count("timeout", 60)], BASELINE)
    assert [j.template_id for j in jumps] == ["timeout"]
    jump = jumps[0]
    assert jump.baseline_mean == 10.0
    assert jump.ratio == 6.0
    assert jump.p_value < 1e-12


def test_ordinary_fluctuation_and_small_counts_are_not_jumps() -> None:
    current = [count("login", 125), count("timeout", 18), count("gc", 8), count("rare", 4)]
    assert rate_jumps(current, BASELINE) == []


def test_a_burst_of_a_template_never_seen_before_is_a_jump_too() -> None:
    jumps = rate_jumps([count("oom", 40)], BASELINE)
    assert [(j.template_id, j.baseline_mean) for j in jumps] == [("oom", 0.0)]


def test_top_error_templates_are_ranked_per_service() -> None:
    current = [
        count("refused", 30, level=Level.ERROR),
        count("oom", 5, level=Level.FATAL),
        count("oom", 50, level=Level.ERROR),
        count("slow", 500, level=Level.WARNING),
        count("deadlock", 7, service="db", level=Level.CRITICAL),
    ]
    top = top_error_templates(current, per_service=2)
    assert {s: [(t.template_id, t.count) for t in ts] for s, ts in top.items()} == {
        "api": [("oom", 55), ("refused", 30)],
        "db": [("deadlock", 7)],
    }


def test_window_findings_bundle_all_three_reports() -> None:
    current = [count("timeout", 60, level=Level.ERROR), count("oom", 3, level=Level.FATAL)]
    findings = window_findings(current, BASELINE)
    assert [f.template_id for f in findings.new_templates] == ["oom"]
    assert [j.template_id for j in findings.rate_jumps] == ["timeout"]
    assert [t.template_id for t in findings.top_errors["api"]] == ["timeout", "oom"]


def test_poisson_upper_tail_agrees_with_the_direct_sum() -> None:
    for k, mean in [(10, 2.0), (3, 2.0), (5, 5.0), (40, 30.0), (1, 0.5)]:
        direct = 1 - sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k))
        assert math.isclose(poisson_upper_tail(k, mean), direct, rel_tol=1e-9, abs_tol=1e-15)
