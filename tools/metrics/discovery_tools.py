"""Finding what exists in Prometheus: label values, series, and the alerts it has active."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tools.base import Evidence, ToolArgs, ToolResult
from tools.budget import fit_items, format_number, shorten
from tools.metrics.base import PrometheusTool, excerpt_of
from tools.metrics.links import alerts_url, table_url
from tools.metrics.series import series_name
from tools.timewindow import TimeWindowArgs, iso

SELECTOR_DESCRIPTION = 'Series selectors such as up{job="api"} or {__name__=~"http_.*"}.'


class LabelValuesData(BaseModel):
    """Structured result of prometheus_label_values."""

    label: str
    total: int
    values: list[str] = Field(description="At most max_label_values, sorted.")


class SeriesListData(BaseModel):
    """Structured result of prometheus_series."""

    total: int
    series: list[dict[str, str]] = Field(description="At most max_label_values label sets.")


class ActiveAlert(BaseModel):
    labels: dict[str, str]
    annotations: dict[str, str]
    state: str
    active_at: datetime | None
    value: str


class AlertsData(BaseModel):
    """Structured result of prometheus_alerts."""

    total: int
    alerts: list[ActiveAlert]


class LabelValuesArgs(TimeWindowArgs):
    label: str = Field(
        "__name__",
        pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$",
        description="Label name; __name__ lists metric names.",
    )
    match: list[str] = Field(
        default_factory=list, max_length=5, description=SELECTOR_DESCRIPTION + " Optional."
    )
    contains: str | None = Field(
        None, max_length=200, description="Keep only values containing this text (any case)."
    )


class SeriesArgs(TimeWindowArgs):
    match: list[str] = Field(min_length=1, max_length=5, description=SELECTOR_DESCRIPTION)


class AlertsArgs(ToolArgs):
    state: Literal["firing", "pending", "any"] = Field(
        "any", description="Only alerts in this state."
    )
    alertname: str | None = Field(None, description="Only alerts with this alertname.")
    labels: dict[str, str] = Field(
        default_factory=dict, description="Only alerts whose labels equal these values."
    )


class PrometheusLabelValuesTool(PrometheusTool[LabelValuesArgs]):
    name = "prometheus_label_values"
    description = (
        "List the values of one label in a time window, e.g. metric names (__name__) "
        "containing 'http', or the services seen in up{}. Use it before querying to get "
        "names right."
    )
    args_model = LabelValuesArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"at most {c.max_label_values} kept; about {c.output.max_tokens} tokens of "
            "output, the rest counted"
        )

    def execute(self, args: LabelValuesArgs) -> ToolResult:
        window = args.window(self.clock())
        values = sorted(self.api.label_values(args.label, args.match, window.start, window.end))
        if args.contains:
            needle = args.contains.lower()
            values = [v for v in values if needle in v.lower()]
        query = f"label_values({args.label}{', ' + ', '.join(args.match) if args.match else ''})"
        link = table_url(self.ui_url, _grouping(args.label, args.match), at=window.end)
        data = LabelValuesData(
            label=args.label, total=len(values), values=values[: self.config.max_label_values]
        )
        described = f"label {args.label}" + (
            f" containing {args.contains!r}" if args.contains else ""
        )
        if not values:
            content = f"No data: no values of {described} from {window.describe()}."
            evidence = Evidence(tool=self.name, query=query, link=link, excerpt="no data")
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        content, left_out = fit_items(
            f"{len(values)} values of {described} from {window.describe()}:",
            values,
            self.config.output.max_chars,
            lambda n: f"... and {n} more values; pass contains to filter them.",
        )
        evidence = Evidence(tool=self.name, query=query, link=link, excerpt=excerpt_of(content))
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )


class PrometheusSeriesTool(PrometheusTool[SeriesArgs]):
    name = "prometheus_series"
    description = (
        "List the label sets of the series matching selectors in a time window, to learn "
        'which labels a metric has (e.g. match http_requests_total{service="checkout"}).'
    )
    args_model = SeriesArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"at most {c.max_label_values} kept; about {c.output.max_tokens} tokens of "
            "output, the rest counted"
        )

    def execute(self, args: SeriesArgs) -> ToolResult:
        window = args.window(self.clock())
        found = self.api.series(args.match, window.start, window.end)
        names = sorted(series_name(labels) for labels in found)
        query = f"series({', '.join(args.match)})"
        link = table_url(self.ui_url, " or ".join(args.match), at=window.end)
        data = SeriesListData(total=len(found), series=found[: self.config.max_label_values])
        if not found:
            content = f"No data: no series match {', '.join(args.match)} from {window.describe()}."
            evidence = Evidence(tool=self.name, query=query, link=link, excerpt="no data")
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        content, left_out = fit_items(
            f"{len(found)} series match {', '.join(args.match)} from {window.describe()}:",
            [f"- {shorten(name, 400)}" for name in names],
            self.config.output.max_chars,
            lambda n: f"... and {n} more series; add label matchers to narrow.",
        )
        evidence = Evidence(tool=self.name, query=query, link=link, excerpt=excerpt_of(content))
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )


class PrometheusAlertsTool(PrometheusTool[AlertsArgs]):
    name = "prometheus_alerts"
    description = (
        "List the alerts Prometheus currently has pending or firing, with labels, "
        "annotations and since when they are active."
    )
    args_model = AlertsArgs

    def caps(self) -> str:
        return f"about {self.config.output.max_tokens} tokens of output, the rest counted"

    def execute(self, args: AlertsArgs) -> ToolResult:
        alerts = [_alert(raw) for raw in self.api.alerts()]
        chosen = [a for a in alerts if _wanted(a, args)]
        chosen.sort(
            key=lambda a: (a.state != "firing", a.active_at.timestamp() if a.active_at else 0.0)
        )
        data = AlertsData(total=len(chosen), alerts=chosen)
        query = "GET /api/v1/alerts" + _filters(args)
        link = alerts_url(self.ui_url)
        if not chosen:
            content = f"No data: no active alerts{_filters(args)} ({len(alerts)} active in total)."
            evidence = Evidence(tool=self.name, query=query, link=link, excerpt="no data")
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        lines = [_describe_alert(a) for a in chosen]
        content, left_out = fit_items(
            f"{len(chosen)} active alerts{_filters(args)}:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more alerts; filter by alertname or labels.",
        )
        evidence = Evidence(tool=self.name, query=query, link=link, excerpt=excerpt_of(content))
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )


def _grouping(label: str, matchers: list[str]) -> str:
    selector = " or ".join(matchers) if matchers else '{__name__=~".+"}'
    return f"count by ({label}) ({selector})"


def _alert(raw: dict[str, object]) -> ActiveAlert:
    active_at = raw.get("activeAt")
    return ActiveAlert(
        labels=dict(raw.get("labels") or {}),  # type: ignore[call-overload]
        annotations=dict(raw.get("annotations") or {}),  # type: ignore[call-overload]
        state=str(raw.get("state", "")),
        active_at=datetime.fromisoformat(str(active_at)) if active_at else None,
        value=str(raw.get("value", "")),
    )


def _wanted(alert: ActiveAlert, args: AlertsArgs) -> bool:
    if args.state not in ("any", alert.state):
        return False
    if args.alertname and alert.labels.get("alertname") != args.alertname:
        return False
    return all(alert.labels.get(k) == v for k, v in args.labels.items())


def _filters(args: AlertsArgs) -> str:
    parts = [] if args.state == "any" else [f"state={args.state}"]
    if args.alertname:
        parts.append(f"alertname={args.alertname}")
    parts.extend(f"{k}={v}" for k, v in sorted(args.labels.items()))
    return f" ({', '.join(parts)})" if parts else ""


def _describe_alert(alert: ActiveAlert) -> str:
    since = iso(alert.active_at) if alert.active_at else "unknown"
    labels = series_name({k: v for k, v in alert.labels.items() if k != "alertname"})
    summary = alert.annotations.get("summary") or alert.annotations.get("description") or ""
    line = f"- {alert.labels.get('alertname', '?')} {labels} {alert.state} since {since}"
    if alert.value:
        line += f", value {_number(alert.value)}"
    return line + (f": {shorten(summary, 200)}" if summary else "")


def _number(text: str) -> str:
    try:
        return format_number(float(text))
    except ValueError:
        return text
