"""The capacity presentation layer on constructed reports: Block Kit sections and numbers,
charts, question recognition, resource resolution, the agent's tools, and the report's
gathering (independent failures, brief caching)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from bot.cache import MemoryCache
from bot.capacity.analyses import Analyses, Part, Sources
from bot.capacity.models import CapacityReport
from bot.capacity.report import (
    CapacityReports,
    cached_report,
    gather,
    remember,
)
from bot.capacity.resolve import resolve
from bot.digests.capacity_blocks import capacity_blocks
from bot.digests.capacity_digest import build, digest_for
from bot.digests.output import DigestRequest
from bot.investigation.capacity_questions import (
    CapacityQuestion,
    capacity_answer,
    capacity_question,
)
from bot.investigation.capacity_tools import capacity_tools
from bot.settings import CapacitySettings, load_settings
from tests.capacity.sample_report import NOW, shop_report
from tools.toolbox import Toolbox

PNG = b"\x89PNG\r\n\x1a\n"


def rendered(report: CapacityReport) -> str:
    return json.dumps([b.to_dict() for b in capacity_blocks(report)], ensure_ascii=False)


def test_the_blocks_show_what_runs_out_the_savings_what_is_idle_and_what_was_skipped() -> None:
    report = shop_report(skipped=("forecast node/worker-3 disk: 1.2 days of history",))
    blocks = rendered(report)
    assert "*Runs out soon*" in blocks
    runs_out = blocks.index("prod/postgres-data (volume)*: full in *~5.0 days*")
    assert runs_out < blocks.index("prod/orders-archive (volume)*: full in *~60.0 days*")
    assert "80% interval 4.3-6.0 days" in blocks  # lower bound 44 + 1.0/day crosses 50 at 6 d
    assert "capacity 50.0 GiB, 44.0 GiB used now" in blocks
    assert "*Top savings*" in blocks
    assert (
        "*prod/payments (app, 3x)*: cpu 2.00→300m, memory 4.0Gi→600Mi, memory limit "
        "4.0Gi→900Mi (1.5x the 600Mi peak) · *$148.92/month*"
    ) in blocks
    assert "Rightsizing total: *$190.89/month*" in blocks
    assert "*Idle and left behind*" in blocks
    assert "staging/legacy-report (idle workload since 02 Nov)" in blocks
    # One savings figure, labelled with what it is made of; each section's total is labelled.
    assert "*Possible savings*\\n$215.39/month ($190.89 rightsizing + $24.50 idle)" in blocks
    assert "(the $215.39 above adds the idle resources' $24.50)" in blocks
    assert "Idle total: *$24.50/month*" in blocks
    assert "Could not analyse: forecast node/worker-3 disk: 1.2 days of history" in blocks


def test_an_empty_report_says_so_in_every_section() -> None:
    blocks = rendered(CapacityReport(generated_at=NOW, namespace="dev"))
    assert "namespace `dev`" in blocks
    assert "nothing runs out within the forecast horizon" in blocks
    assert "no over-provisioned workload" in blocks
    assert "nothing idle or left behind" in blocks
    assert "Could not analyse" not in blocks


def test_blocks_stay_within_slack_limits_with_many_items() -> None:
    base = shop_report()
    many = CapacityReport(
        generated_at=NOW,
        namespace=None,
        forecasts=base.forecasts * 40,
        exhaustions=base.exhaustions * 40,
        rightsizing=base.rightsizing * 40,
        idle=base.idle * 40,
        skipped=tuple(f"forecast node/n{i} disk: no data" for i in range(40)),
    )
    blocks = [b.to_dict() for b in capacity_blocks(many)]
    assert len(blocks) <= 50
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= 3000
    assert "…and 75 more" in json.dumps(blocks, ensure_ascii=False)  # 80 exhaustions, 5 shown


def test_the_digest_has_the_forecast_and_savings_charts() -> None:
    output = digest_for(shop_report())
    assert [c.filename for c in output.charts] == ["capacity-forecasts.png", "capacity-savings.png"]
    assert all(c.png.startswith(PNG) and len(c.png) > 10_000 for c in output.charts)
    assert "prod/postgres-data (volume)" in output.charts[0].alt
    assert output.text.startswith("Capacity (all namespaces): 2 resources run out")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("when will the orders database disk be full?", CapacityQuestion.EXHAUSTION),
        ("how long until the disk on worker-2 runs out?", CapacityQuestion.EXHAUSTION),
        ("which services are over-provisioned?", CapacityQuestion.RIGHTSIZING),
        ("where can we save money on cpu requests?", CapacityQuestion.RIGHTSIZING),
        ("what is idle or left behind in staging?", CapacityQuestion.IDLE),
        ("why is checkout slow?", None),
        ("when will the deploy of payments finish?", None),
        ("show me errors from checkout in the last hour", None),
    ],
)
def test_capacity_questions_are_told_apart_from_other_questions(
    question: str, kind: CapacityQuestion | None
) -> None:
    assert capacity_question(question) is kind


def test_the_orders_database_is_the_postgres_volume_not_the_orders_archive() -> None:
    report = shop_report()
    names = [f.resource.name for f in resolve(report, "when will the orders database disk be full")]
    assert names == ["postgres-data"]
    assert [f.resource.name for f in resolve(report, "is orders-archive filling up?")] == [
        "orders-archive"
    ]
    assert resolve(report, "when will the billing disk be full?") == []


def test_the_pattern_answer_names_the_volume_the_day_and_the_interval() -> None:
    question = "when will the orders database disk be full?"
    finding = capacity_answer(shop_report(), question, CapacityQuestion.EXHAUSTION)
    assert finding.summary.startswith(
        "prod/postgres-data (volume) will be full in ~5.0 days (around Sat 28 Nov), "
        "80% interval 4.3-6.0 days: 44.0 GiB of 50.0 GiB used (88%), growing ~1.2 GiB/day."
    )
    assert finding.rule == "capacity_forecast"
    assert finding.confidence == pytest.approx(0.95)
    over = capacity_answer(
        shop_report(), "which services are over-provisioned?", CapacityQuestion.RIGHTSIZING
    )
    assert over.summary == (
        "2 over-provisioned workloads: prod/payments, prod/checkout; "
        "rightsizing saves $190.89/month."
    )
    assert over.recommendations[0].startswith("prod/payments (app, 3x): cpu 2.00→300m")


def test_the_agent_tools_resolve_names_and_list_savings() -> None:
    toolbox = Toolbox(capacity_tools(shop_report))
    forecast = toolbox.run("capacity_forecast", {"resource": "orders database disk"})
    assert forecast.ok
    first = forecast.content.splitlines()[0]
    assert first.startswith("prod/postgres-data (volume): full in ~5.0 days")
    assert forecast.evidence[0].tool == "capacity_forecast"
    savings = toolbox.run("capacity_rightsizing", {"namespace": "prod", "limit": 1})
    assert savings.content.splitlines()[:2] == [
        "2 over-provisioned workloads, saving $190.89/month in total (requests → recommended):",
        "- prod/payments (app, 3x): cpu 2.00→300m, memory 4.0Gi→600Mi, memory limit "
        "4.0Gi→900Mi (1.5x the 600Mi peak), saves $148.92/month (p95 cpu 250m, p95 memory 500Mi)",
    ]
    refused = toolbox.run("capacity_idle", {"namespace": "staging", "colour": "red"})
    assert refused.is_error


def _part(report: CapacityReport, what: str) -> Part:
    if what == "forecasts":
        return Part(forecasts=report.forecasts, exhaustions=report.exhaustions)
    if what == "rightsizing":
        return Part(rightsizing=report.rightsizing)
    return Part(idle=report.idle)


def test_a_failing_analysis_is_recorded_and_the_others_still_count() -> None:
    report = shop_report()

    def broken(*_: object) -> Part:
        raise ConnectionError("prometheus said 503")

    analyses = Analyses(
        (
            ("forecasts", lambda *_: _part(report, "forecasts")),
            ("rightsizing", broken),
            ("idle resources", lambda *_: _part(report, "idle")),
        )
    )
    gathered = gather(Sources(), CapacitySettings(), NOW, None, analyses)
    assert gathered.exhaustions == report.exhaustions
    assert gathered.idle == report.idle
    assert gathered.rightsizing == ()
    assert gathered.skipped == ("rightsizing: ConnectionError: prometheus said 503",)


def test_a_report_is_reused_for_a_few_minutes_then_computed_again() -> None:
    cache = MemoryCache()
    remember(cache, shop_report())
    assert cached_report(cache, None, NOW + timedelta(minutes=4)) == shop_report()
    assert cached_report(cache, None, NOW + timedelta(minutes=6)) is None
    assert cached_report(cache, "prod", NOW) is None

    calls: list[str | None] = []

    def counted(_: Sources, __: CapacitySettings, now: datetime, ns: str | None) -> Part:
        calls.append(ns)
        return _part(shop_report(ns), "rightsizing")

    settings = load_settings()
    reports = CapacityReports(MemoryCache(), settings.tools, settings.capacity)
    analyses = Analyses((("rightsizing", counted),))
    first = reports.build(NOW, "prod", analyses=analyses)
    again = reports.build(NOW + timedelta(seconds=30), "prod", analyses=analyses)
    assert again == first
    assert calls == ["prod"]
    assert len(first.rightsizing) == 2


def test_a_resource_only_the_interval_bound_reaches_is_shown_as_may_run_out() -> None:
    base = shop_report()
    archive = next(e for e in base.exhaustions if e.resource.name == "orders-archive")
    unlikely = replace(archive, days_likely=None, days_earliest=83.2, probability=0.004)
    report = replace(base, exhaustions=(unlikely,))
    blocks = rendered(report)
    assert (
        "*prod/orders-archive (volume)*: may run out: the interval's upper bound reaches "
        "capacity in 83.2 days · capacity 200 GiB" in blocks
    )
    assert "likely within the horizon" not in blocks  # under 1 %: not worth a number


def test_without_prometheus_the_digest_is_skipped_and_says_why() -> None:
    settings = load_settings()
    reports = CapacityReports(MemoryCache(), settings.tools, settings.capacity)
    output = build(reports, None, DigestRequest("capacity", NOW))
    assert output.skipped is not None
    assert output.skipped.startswith("nothing could be analysed: forecasts: no Prometheus")
