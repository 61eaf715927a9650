"""An alerting rule as Prometheus evaluates it: the expression, `for`, labels, annotations,
the runbook, its health and the alerts it holds now (from `/api/v1/rules`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from tools.base import ErrorKind, Evidence, ToolArgs, ToolFailure, ToolResult
from tools.budget import fit_items, shorten
from tools.metrics.base import PrometheusTool, excerpt_of
from tools.metrics.links import alerts_url
from tools.metrics.series import series_name
from tools.timewindow import format_duration

RUNBOOK_KEYS = ("runbook_url", "runbook", "playbook", "playbook_url")
MAX_RULES = 5
MAX_ALERTS_PER_RULE = 10


class RuleAlert(BaseModel):
    labels: dict[str, str]
    state: str
    active_at: str | None
    value: str


class AlertRuleInfo(BaseModel):
    name: str
    group: str
    file: str
    expr: str
    for_seconds: float
    labels: dict[str, str]
    annotations: dict[str, str]
    runbook: str | None
    state: str | None
    health: str | None
    last_error: str | None
    alerts: list[RuleAlert] = Field(description=f"At most {MAX_ALERTS_PER_RULE}.")
    alert_count: int


class AlertRuleData(BaseModel):
    """Structured result of alert_rule."""

    name: str
    rules: list[AlertRuleInfo] = Field(description=f"At most {MAX_RULES} rules of that name.")


class AlertRuleArgs(ToolArgs):
    name: str = Field(
        min_length=1,
        max_length=200,
        description="The alert's name (its alertname label), e.g. HighErrorRate.",
    )


def rule_info(group: dict[str, Any], rule: dict[str, Any]) -> AlertRuleInfo:
    annotations = {str(k): str(v) for k, v in (rule.get("annotations") or {}).items()}
    alerts = [
        RuleAlert(
            labels={str(k): str(v) for k, v in (a.get("labels") or {}).items()},
            state=str(a.get("state", "")),
            active_at=a.get("activeAt"),
            value=str(a.get("value", "")),
        )
        for a in rule.get("alerts") or []
    ]
    return AlertRuleInfo(
        name=str(rule.get("name", "")),
        group=str(group.get("name", "")),
        file=str(group.get("file", "")),
        expr=str(rule.get("query", "")),
        for_seconds=float(rule.get("duration") or 0),
        labels={str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
        annotations=annotations,
        runbook=next((annotations[k] for k in RUNBOOK_KEYS if annotations.get(k)), None),
        state=rule.get("state"),
        health=rule.get("health"),
        last_error=rule.get("lastError") or None,
        alerts=alerts[:MAX_ALERTS_PER_RULE],
        alert_count=len(alerts),
    )


def describe_rule(rule: AlertRuleInfo) -> list[str]:
    waits = format_duration(timedelta(seconds=rule.for_seconds)) if rule.for_seconds else "0s"
    lines = [
        f"Rule {rule.name} (group {rule.group}, file {rule.file or '?'}): "
        f"{rule.state or '?'}, health {rule.health or '?'}",
        f"expr: {shorten(rule.expr, 1000)}",
        f"for: {waits}",
        f"labels: {series_name(rule.labels) if rule.labels else '(none)'}",
    ]
    lines += [f"annotation {k}: {shorten(v, 300)}" for k, v in sorted(rule.annotations.items())]
    lines.append(f"runbook: {rule.runbook or '(none given)'}")
    if rule.last_error:
        lines.append(f"last evaluation error: {shorten(rule.last_error, 300)}")
    lines.append(f"{rule.alert_count} alerts held by this rule now:")
    lines += [
        f"- {series_name(a.labels)} {a.state} since {a.active_at or '?'}, value {a.value}"
        for a in rule.alerts
    ]
    return lines


class AlertRuleTool(PrometheusTool[AlertRuleArgs]):
    name = "alert_rule"
    description = (
        "Look up an alerting rule by alert name: its PromQL expression, `for` duration, "
        "labels, annotations, runbook link, health and last evaluation error, and the alerts "
        "it holds now. Use it to learn what an alert measures before querying around it."
    )
    args_model = AlertRuleArgs

    def caps(self) -> str:
        return (
            f"at most {MAX_RULES} rules of that name and {MAX_ALERTS_PER_RULE} alerts each; "
            f"about {self.config.output.max_tokens} tokens"
        )

    def execute(self, args: AlertRuleArgs) -> ToolResult:
        query = "GET /api/v1/rules?type=alert"
        link = alerts_url(self.ui_url)
        groups = self.attempt(query, link, self.api.alerting_rules)
        found = [
            rule_info(group, rule)
            for group in groups
            for rule in group.get("rules") or []
            if rule.get("name") == args.name
        ]
        data = AlertRuleData(name=args.name, rules=found[:MAX_RULES])
        if not found:
            names = sorted({str(r.get("name")) for g in groups for r in g.get("rules") or []})
            known = ", ".join(names[:30]) or "none"
            raise ToolFailure(
                ErrorKind.NOT_FOUND,
                f"Prometheus has no alerting rule named {args.name!r}. Its alerting rules: "
                f"{known}{' ...' if len(names) > 30 else ''}. The alert may come from "
                "another Prometheus or from Alertmanager directly.",
                Evidence(tool=self.name, query=query, link=link, excerpt="no such rule"),
            )
        lines = [line for rule in data.rules for line in describe_rule(rule)]
        content, left_out = fit_items(
            f"{len(found)} alerting rules named {args.name}:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more lines left out.",
        )
        evidence = Evidence(tool=self.name, query=query, link=link, excerpt=excerpt_of(content))
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )
