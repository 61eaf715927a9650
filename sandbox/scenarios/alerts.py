"""Turn a scenario's alerting rules into the alerts Prometheus would be sending now.

Each rule's expression is evaluated against the loaded Prometheus at the load moment;
every series it returns is one alert, labelled and annotated as Prometheus does
(series labels + rule labels + alertname, templates expanded). `startsAt` is when the
condition first held plus the rule's `for`, found with a range query over the incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

import httpx

from sandbox.scenarios.alert_templates import expand
from sandbox.scenarios.catalog import Scenario, ScenarioError
from sandbox.scenarios.timeline import Timeline, parse_duration

LOOKBACK = 6 * 3600  # how far back to look for the moment a condition became true


@dataclass(frozen=True)
class FiringAlert:
    labels: dict[str, str]
    annotations: dict[str, str]
    active_since: datetime  # when the expression first returned this series
    fired_at: datetime  # active_since + the rule's `for`
    generator_url: str
    value: float = 0.0
    expr: str = field(default="", repr=False)

    @property
    def name(self) -> str:
        return self.labels["alertname"]

    def postable(
        self, *, valid_for: timedelta | None = None, resolved: bool = False
    ) -> dict[str, Any]:
        """The Alertmanager API v2 body Prometheus sends: firing until `endsAt`."""
        now = datetime.now(UTC)
        body: dict[str, Any] = {
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": _rfc3339(min(self.fired_at, now)),
            "generatorURL": self.generator_url,
        }
        if resolved:
            body["endsAt"] = _rfc3339(now)
        elif valid_for is not None:
            body["endsAt"] = _rfc3339(now + valid_for)
        return body


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _query(client: httpx.Client, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(path, params=params)
    body = response.json()
    if response.status_code != 200 or body.get("status") != "success":
        raise ScenarioError(f"Prometheus {path} {params.get('query')!r}: {body.get('error')}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def evaluate_alerts(
    prometheus_url: str, scenario: Scenario, timeline: Timeline
) -> list[FiringAlert]:
    """The alerts of every rule at `timeline.now`; a rule that returns nothing is an error
    (the scenario's data and its alerts disagree)."""
    alerts: list[FiringAlert] = []
    with httpx.Client(base_url=prometheus_url, timeout=30) as client:
        for rule in scenario.rules():
            alerts.extend(_evaluate_rule(client, prometheus_url, rule, timeline))
    return alerts


def _evaluate_rule(
    client: httpx.Client, prometheus_url: str, rule: dict[str, Any], timeline: Timeline
) -> list[FiringAlert]:
    expr, name = str(rule["expr"]).strip(), str(rule["alert"])
    hold = timedelta(seconds=parse_duration(rule.get("for", "0s")))
    current = _query(client, "/api/v1/query", {"query": expr, "time": str(timeline.now)})
    if not current:
        raise ScenarioError(f"alert {name}: its expression returns nothing at load time")
    since = _first_true(client, expr, timeline)
    generator = f"{prometheus_url}/graph?g0.expr={quote_plus(expr)}&g0.tab=1"
    found = []
    for series in current:
        metric = {k: v for k, v in series["metric"].items() if k != "__name__"}
        value = float(series["value"][1])
        labels = {**metric, **{k: str(v) for k, v in (rule.get("labels") or {}).items()}}
        labels["alertname"] = name
        annotations = {
            key: expand(str(text), metric, value)
            for key, text in (rule.get("annotations") or {}).items()
        }
        started = since.get(_key(metric), float(timeline.now))
        active = datetime.fromtimestamp(started, UTC)
        found.append(
            FiringAlert(labels, annotations, active, active + hold, generator, value, expr)
        )
    return found


def _first_true(client: httpx.Client, expr: str, timeline: Timeline) -> dict[str, float]:
    """For each series, the start of its last unbroken run of samples up to now."""
    start = max(timeline.start, timeline.now - LOOKBACK)
    params = {
        "query": expr,
        "start": str(start),
        "end": str(timeline.now),
        "step": str(timeline.step),
    }
    runs: dict[str, float] = {}
    for series in _query(client, "/api/v1/query_range", params):
        times = [float(at) for at, _ in series["values"]]
        first = times[-1]
        for earlier, later in zip(reversed(times[:-1]), reversed(times[1:]), strict=True):
            if later - earlier > timeline.step * 1.5:
                break
            first = earlier
        metric = {k: v for k, v in series["metric"].items() if k != "__name__"}
        runs[_key(metric)] = first
    return runs


def _key(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
