"""One verdict per workload in the capacity report and digest, numbers that agree with each
other, names without doubled words, and a scaled-to-zero deployment shown as what it is."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from bot.capacity import summary
from bot.capacity.analyses import Part
from bot.capacity.models import (
    CapacityReport,
    Exhaustion,
    Forecast,
    IdleKind,
    IdleResource,
    Metric,
    ResourceRef,
    Scope,
    Skip,
)
from bot.capacity.report import combine
from bot.capacity.rightsizing import LIMIT_RULE
from bot.capacity.verdicts import VERDICT_RULE, Verdict, one_verdict, verdicts
from bot.digests.capacity_blocks import capacity_blocks
from bot.remediation.blocks import as_text
from tests.capacity.sample_report import GIB, MIB, NOW, shop_report, usage

LEGACY = ResourceRef(Scope.WORKLOAD, Metric.MEMORY, "legacy-report", "staging", detail="report")


def memory_exhaustion(ref: ResourceRef, days_likely: float | None) -> Exhaustion:
    forecast = Forecast(
        resource=ref,
        capacity=512 * MIB,
        used_now=300 * MIB,
        history=((NOW - timedelta(days=1), 290 * MIB), (NOW, 300 * MIB)),
        points=(),
        method="holt-winters(additive trend, daily season)",
        interval=0.8,
        history_days=28.0,
    )
    return Exhaustion(
        forecast, days_likely=days_likely, days_earliest=82.5, probability=0.2, severity="info"
    )


def idle_legacy() -> IdleResource:
    return IdleResource(
        IdleKind.IDLE_WORKLOAD, "staging", "legacy-report", NOW - timedelta(days=10), "idle", 9.3
    )


def text_of(report: CapacityReport) -> str:
    return as_text(capacity_blocks(report))


def test_an_idle_workload_is_not_also_said_to_maybe_run_out_of_memory() -> None:
    report = replace(
        shop_report(),
        exhaustions=(memory_exhaustion(LEGACY, None),),
        idle=(idle_legacy(),),
    )
    assert verdicts(report)[("staging", "legacy-report")] is Verdict.IDLE
    shown = text_of(one_verdict(report))
    assert "staging/legacy-report (idle workload" in shown
    assert "may run out:" not in shown  # the forecast line; the footer names the verdict
    assert "legacy-report (container report, memory)" not in shown


def test_a_workload_likely_to_run_out_is_not_offered_for_scaling_to_zero() -> None:
    report = replace(
        shop_report(), exhaustions=(memory_exhaustion(LEGACY, 5.0),), idle=(idle_legacy(),)
    )
    kept = one_verdict(report)
    assert [e.resource.name for e in kept.exhaustions] == ["legacy-report"]
    assert kept.idle == ()


def test_a_workload_that_may_run_out_is_not_rightsized_down_beside_it() -> None:
    payments = ResourceRef(Scope.WORKLOAD, Metric.MEMORY, "payments", "prod", detail="app")
    report = replace(shop_report(), exhaustions=(memory_exhaustion(payments, None),), idle=())
    kept = one_verdict(report)
    assert [r.usage.workload for r in kept.rightsizing] == ["checkout"]
    assert [e.resource.name for e in kept.exhaustions] == ["payments"]
    assert VERDICT_RULE in text_of(kept)  # the precedence is stated in the footer


def test_volumes_and_nodes_keep_every_finding() -> None:
    report = shop_report()
    assert one_verdict(report).exhaustions == report.exhaustions
    assert one_verdict(report).idle == report.idle


def test_a_workload_container_is_named_as_one_and_no_word_is_doubled() -> None:
    assert summary.resource_name(LEGACY) == "staging/legacy-report (container report, memory)"
    report = replace(shop_report(), exhaustions=(memory_exhaustion(LEGACY, 5.0),), idle=())
    shown = text_of(report)
    assert "staging/legacy-report (container report, memory)" in shown
    doubled = re.findall(r"\b([a-z]{3,})[^\w\n]+\1\b", shown, flags=re.IGNORECASE)
    assert doubled == []


def test_a_deployment_scaled_to_zero_for_weeks_is_idle_not_could_not_analyse() -> None:
    zero = IdleResource(
        IdleKind.SCALED_TO_ZERO,
        "staging",
        "old-api",
        NOW - timedelta(days=20),
        "0 replicas for 20 days (from its replica history)",
    )
    parts = [
        Part(
            skipped=(
                Skip(
                    "forecast deployment/staging/old-api api memory: no data since",
                    ("staging", "old-api"),
                ),
                Skip("forecast node/worker-3 disk: 1.2 days of history"),
            )
        ),
        Part(
            skipped=(
                Skip(
                    "rightsizing staging/old-api/api: only 0.0 days of usage history",
                    ("staging", "old-api"),
                ),
            )
        ),
        Part(idle=(zero,)),
    ]
    report = combine(parts, NOW, None)
    assert report.skipped == ("forecast node/worker-3 disk: 1.2 days of history",)
    shown = text_of(report)
    idle = shown[shown.index("*Idle and left behind*") :]
    assert "staging/old-api (scaled to zero since 03 Nov): 0 replicas for 20 days" in idle
    assert "old-api" not in shown[shown.index("Could not analyse") :]


def test_the_savings_headline_and_the_section_totals_are_the_same_figures_labelled() -> None:
    report = shop_report()
    shown = text_of(report)
    rightsizing, idle = summary.rightsizing_total(report), summary.idle_total(report)
    both = summary.money(rightsizing + idle)
    assert (
        f"{both}/month ({summary.money(rightsizing)} rightsizing + {summary.money(idle)} idle)"
        in shown
    )
    assert f"Rightsizing total: *{summary.money(rightsizing)}/month*" in shown
    assert f"Idle total: *{summary.money(idle)}/month*" in shown
    assert "\nTotal:" not in shown
    only = replace(report, idle=())
    assert summary.savings_text(only) == f"{summary.money(rightsizing)}/month"
    assert "adds the idle resources" not in text_of(only)


def test_the_digest_states_the_memory_limit_rule_and_each_limit_its_headroom() -> None:
    report = replace(
        shop_report(),
        rightsizing=(
            replace(
                shop_report().rightsizing[0],
                usage=replace(
                    usage("prod", "payments", 0.5, 512 * MIB, 0.04, 145 * MIB),
                    memory_limit=768 * MIB,
                    memory_max=148 * MIB,
                ),
                memory_request=174 * MIB,
                memory_limit=222 * MIB,
            ),
        ),
    )
    shown = text_of(report)
    assert "memory limit 768Mi→222Mi (1.5x the 148Mi peak)" in shown
    assert LIMIT_RULE in shown
    assert GIB > MIB  # the fixture's units, as the lines above assume
