"""Capacity questions answered by the pattern engine from the capacity report: "when will
the orders database disk be full?", "which services are over-provisioned?", "what is
idle?". Recognising the question and writing the answer are pure."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum

from bot.capacity import summary
from bot.capacity.models import CapacityReport, Exhaustion, Forecast
from bot.capacity.resolve import exhaustion_of, namespaces_named, resolve
from bot.investigation.agent.finding import Finding
from tools.base import Evidence


class CapacityQuestion(StrEnum):
    EXHAUSTION = "exhaustion"
    RIGHTSIZING = "rightsizing"
    IDLE = "idle"


_RUNS_OUT = re.compile(
    r"\b(run(s|ning)? out|fill(s|ing)? up|be full|get full|become full|"
    r"out of (disk|space|memory|storage)|capacity forecast)\b"
)
_WHEN = re.compile(r"\b(when will|when does|when is|how long|how soon|how many days|forecast)\b")
_FULLNESS = re.compile(r"\b(full|fill\w*|exhaust\w*|space|capacity|disk|storage|volume)\b")
_RIGHTSIZING = re.compile(
    r"\b(over-?provisioned|under-?provisioned|over-?sized|rightsiz\w*|right-siz\w*|"
    r"wast\w+|save money|savings?|cost optimi[sz]\w*|too (much|many) (cpu|memory|resources)|"
    r"requests? (too|are) (high|big))\b"
)
_IDLE = re.compile(r"\b(idle|unused|left behind|orphan\w*|unattached|scaled to zero|abandoned)\b")


def capacity_question(text: str) -> CapacityQuestion | None:
    """The kind of capacity question, or None for any other question."""
    lowered = text.lower()
    if _RIGHTSIZING.search(lowered):
        return CapacityQuestion.RIGHTSIZING
    if _IDLE.search(lowered):
        return CapacityQuestion.IDLE
    if _RUNS_OUT.search(lowered) or (_WHEN.search(lowered) and _FULLNESS.search(lowered)):
        return CapacityQuestion.EXHAUSTION
    return None


def _evidence(tool: str, query: str, excerpt: str, report: CapacityReport) -> Evidence:
    return Evidence(tool=tool, query=query, excerpt=excerpt[:500], observed_at=report.generated_at)


def growth_per_day(forecast: Forecast) -> float | None:
    """Mean forecast growth over the first forecast day."""
    if not forecast.points:
        return None
    start = forecast.points[0].at
    day = next((p for p in forecast.points if p.at - start >= timedelta(days=1)), None)
    last = day or forecast.points[-1]
    span = (last.at - start).total_seconds() / 86400
    if span <= 0:
        return None
    return (last.mean - forecast.points[0].mean) / span


def _forecast_sentence(report: CapacityReport, forecast: Forecast) -> tuple[str, float]:
    """The answer about one resource, and its confidence."""
    found = exhaustion_of(report, forecast)
    name = summary.resource_name(forecast.resource)
    growth = growth_per_day(forecast)
    trend = (
        f", growing ~{summary.amount(growth, forecast.resource.metric)}/day"
        if growth is not None and growth > 0
        else ""
    )
    if found is None:
        horizon = max((p.at for p in forecast.points), default=report.generated_at)
        days = (horizon - report.generated_at).total_seconds() / 86400
        return (
            f"{name} is not forecast to run out within {days:,.0f} days: "
            f"{summary.usage_text(forecast)}{trend}.",
            0.7,
        )
    return _exhaustion_sentence(report, found, trend), max(0.5, min(0.95, found.probability))


def _exhaustion_sentence(report: CapacityReport, found: Exhaustion, trend: str) -> str:
    forecast = found.forecast
    when = ""
    if found.days_likely is not None:
        day = report.generated_at + timedelta(days=found.days_likely)
        when = f" (around {day:%a %d %b})"
    return (
        f"{summary.resource_name(forecast.resource)} will be full in "
        f"~{summary.days(found.days_likely)}{when}, "
        f"{summary.interval_text(found, report.generated_at)}: "
        f"{summary.usage_text(forecast)}{trend}."
    )


def exhaustion_answer(report: CapacityReport, question: str) -> Finding:
    matches = resolve(report, question)
    notes = [f"could not analyse {s}" for s in report.skipped[:5]]
    if matches:
        sentence, confidence = _forecast_sentence(report, matches[0])
        forecast = matches[0]
        others = [summary.resource_name(f.resource) for f in matches[1:4]]
        if others:
            notes.append("other resources that fit the question: " + ", ".join(others))
        return Finding(
            summary=sentence,
            root_cause=(
                f"Forecast of {summary.resource_name(forecast.resource)} with "
                f"{forecast.method} over {forecast.history_days:,.0f} days of history "
                f"({forecast.interval:.0%} prediction interval)."
            ),
            confidence=confidence,
            evidence=[_evidence("capacity_forecast", forecast.resource.label, sentence, report)],
            recommendations=_volume_advice(report, forecast),
            rule="capacity_forecast",
            notes=notes,
        )
    soonest = summary.soonest(report)
    lines = [summary.exhaustion_line(e, report.generated_at) for e in soonest[:5]]
    text = (
        "Runs out first: " + lines[0]
        if lines
        else f"Nothing runs out within the forecast horizon ({len(report.forecasts)} forecasts)."
    )
    return Finding(
        summary=text,
        root_cause="Capacity forecasts of node disks, volumes and workloads.",
        confidence=0.8 if report.forecasts else 0.2,
        evidence=[_evidence("capacity_forecast", "all resources", text, report)],
        recommendations=lines[1:],
        rule="capacity_forecast",
        notes=notes,
    )


def _volume_advice(report: CapacityReport, forecast: Forecast) -> list[str]:
    found = exhaustion_of(report, forecast)
    if found is None or forecast.capacity is None:
        return []
    name = summary.resource_name(forecast.resource)
    return [
        f"Expand {name} (e.g. to {summary.amount(forecast.capacity * 2, forecast.resource.metric)})"
        " or free space before it fills."
    ]


def rightsizing_answer(report: CapacityReport, question: str) -> Finding:
    scope = set(namespaces_named(report, question))
    items = [r for r in summary.savings(report) if not scope or r.usage.namespace in scope]
    total = sum(r.saving_usd_month for r in items)
    if not items:
        text = "No workload is over-provisioned beyond the saving threshold."
    else:
        names = ", ".join(f"{r.usage.namespace}/{r.usage.workload}" for r in items[:5])
        text = (
            f"{len(items)} over-provisioned workload{'s' if len(items) != 1 else ''}: {names}; "
            f"rightsizing saves {summary.money(total)}/month."
        )
    under = [summary.workload_name(r) for r in summary.undersized(report)]
    notes = [f"could not analyse {s}" for s in report.skipped[:5]]
    if under:
        notes.append("needs more than it requests: " + ", ".join(under))
    return Finding(
        summary=text,
        root_cause="Requests compared with p95 usage over the rightsizing window.",
        confidence=0.85 if items else 0.6,
        evidence=[_evidence("capacity_rightsizing", "over-provisioned workloads", text, report)],
        recommendations=[summary.rightsizing_line(r) for r in items[:8]],
        rule="capacity_rightsizing",
        notes=notes,
    )


def idle_answer(report: CapacityReport, question: str) -> Finding:
    scope = set(namespaces_named(report, question))
    items = [i for i in report.idle if not scope or i.namespace in scope]
    cost = sum(i.monthly_cost_usd for i in items)
    text = (
        f"{len(items)} idle or left-behind resource{'s' if len(items) != 1 else ''} costing "
        f"{summary.money(cost)}/month: " + ", ".join(f"{i.namespace}/{i.name}" for i in items[:5])
        if items
        else "Nothing is idle or left behind."
    )
    return Finding(
        summary=text,
        root_cause="Workloads without CPU or traffic, unattached volumes, deployments at zero "
        "replicas and failed jobs.",
        confidence=0.8 if items else 0.6,
        evidence=[_evidence("capacity_idle", "idle resources", text, report)],
        recommendations=[summary.idle_line(i) for i in items[:8]],
        rule="capacity_idle",
        notes=[f"could not analyse {s}" for s in report.skipped[:5]],
    )


def capacity_answer(report: CapacityReport, question: str, kind: CapacityQuestion) -> Finding:
    if kind is CapacityQuestion.RIGHTSIZING:
        return rightsizing_answer(report, question)
    if kind is CapacityQuestion.IDLE:
        return idle_answer(report, question)
    return exhaustion_answer(report, question)
