"""Prometheus tools against a real Prometheus holding generated history."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sandbox.procs import PrometheusProcess, free_port
from tools.base import ErrorKind, ToolResult
from tools.budget import OutputBudget
from tools.config import PrometheusConfig
from tools.metrics.discovery_tools import (
    AlertsArgs,
    AlertsData,
    LabelValuesArgs,
    LabelValuesData,
    PrometheusAlertsTool,
    PrometheusLabelValuesTool,
    PrometheusSeriesTool,
    SeriesArgs,
    SeriesListData,
)
from tools.metrics.query_tools import (
    InstantQueryArgs,
    InstantQueryData,
    PrometheusQueryTool,
    PrometheusRangeQueryTool,
    RangeQueryArgs,
    RangeQueryData,
)

CHECKOUT_5XX = 'rate(http_requests_total{service="checkout",code="500"}[5m])'


def range_data(result: ToolResult) -> RangeQueryData:
    assert isinstance(result.data, RangeQueryData), result.content
    return result.data


def link_params(link: str | None) -> dict[str, str]:
    assert link is not None
    return {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}


def test_range_query_summarises_the_step_change_and_links_to_the_graph(
    prometheus: PrometheusProcess,
) -> None:
    tool = PrometheusRangeQueryTool(PrometheusConfig(url=prometheus.url))
    result = tool.run(RangeQueryArgs(query=CHECKOUT_5XX, lookback="12h"))
    assert result.ok, result.content
    assert not result.no_data
    (series,) = range_data(result).series
    assert series.labels == {"service": "checkout", "code": "500"}
    assert series.min is not None
    assert abs(series.min - 1.0) < 0.01
    assert series.max is not None
    assert abs(series.max - 5.0) < 0.01
    assert series.trend == "rising"
    assert "step change" in result.content
    (evidence,) = result.evidence
    assert evidence.query == CHECKOUT_5XX
    assert evidence.link is not None
    assert evidence.link.startswith(f"{prometheus.url}/graph?")
    params = link_params(evidence.link)
    assert params["g0.expr"] == CHECKOUT_5XX
    assert params["g0.range_input"] == "12h"
    assert params["g0.tab"] == "0"
    assert "checkout" in evidence.excerpt


def test_automatic_step_aims_at_about_250_points(prometheus: PrometheusProcess) -> None:
    tool = PrometheusRangeQueryTool(PrometheusConfig(url=prometheus.url))
    result = tool.run(RangeQueryArgs(query="queue_depth", lookback="2d"))
    data = range_data(result)
    assert data.step_seconds == 900  # 2d / 250 = 691 s, rounded up to a nice 15m
    (series,) = data.series
    assert 150 <= series.points <= 250


def test_gauge_with_a_daily_cycle_reports_its_low_and_high(prometheus: PrometheusProcess) -> None:
    tool = PrometheusRangeQueryTool(PrometheusConfig(url=prometheus.url))
    (series,) = range_data(tool.run(RangeQueryArgs(query="queue_depth", lookback="2d"))).series
    assert series.min is not None
    assert series.max is not None
    assert 49 < series.min < 52
    assert 148 < series.max < 151


def test_instant_query_lists_series_highest_value_first(prometheus: PrometheusProcess) -> None:
    tool = PrometheusQueryTool(PrometheusConfig(url=prometheus.url))
    query = "sum by (service) (rate(http_requests_total[5m]))"
    result = tool.run(InstantQueryArgs(query=query))
    assert isinstance(result.data, InstantQueryData)
    assert [s.labels["service"] for s in result.data.samples] == ["checkout", "cart"]
    assert abs(result.data.samples[0].value - 25.0) < 0.01
    assert result.content.index("checkout") < result.content.index("cart")
    params = link_params(result.evidence[0].link)
    assert params["g0.expr"] == query
    assert params["g0.tab"] == "1"


def test_bad_promql_gives_an_actionable_error_not_an_exception(
    prometheus: PrometheusProcess,
) -> None:
    tool = PrometheusQueryTool(PrometheusConfig(url=prometheus.url))
    result = tool.run(InstantQueryArgs(query="rate(http_requests_total[5m]"))
    assert result.is_error
    assert result.error_kind is ErrorKind.REJECTED
    assert "Prometheus rejected the query" in result.content
    assert "parse error" in result.content
    assert "Fix the PromQL" in result.content
    (evidence,) = result.evidence  # the failed query is still on record
    assert evidence.query == "rate(http_requests_total[5m]"


def test_unknown_metric_is_reported_as_no_data(prometheus: PrometheusProcess) -> None:
    config = PrometheusConfig(url=prometheus.url)
    ranged = PrometheusRangeQueryTool(config).run(RangeQueryArgs(query="no_such_metric"))
    instant = PrometheusQueryTool(config).run(InstantQueryArgs(query="no_such_metric"))
    for result in (ranged, instant):
        assert result.ok
        assert result.no_data
        assert not result.is_error
        assert result.content.startswith("No data")
        assert result.evidence[0].query == "no_such_metric"


def test_ninety_day_range_at_one_second_step_is_refused_by_default(
    prometheus: PrometheusProcess,
) -> None:
    tool = PrometheusRangeQueryTool(PrometheusConfig(url=prometheus.url))
    result = tool.run(RangeQueryArgs(query="queue_depth", lookback="90d", step="1s"))
    assert result.is_error
    assert result.error_kind is ErrorKind.TOO_LARGE
    assert "90d" in result.content
    assert "31d" in result.content


def test_ninety_day_range_at_one_second_step_is_restepped_when_the_range_is_allowed(
    prometheus: PrometheusProcess,
) -> None:
    config = PrometheusConfig(url=prometheus.url, max_range=timedelta(days=100))
    result = PrometheusRangeQueryTool(config).run(
        RangeQueryArgs(query="queue_depth", lookback="90d", step="1s")
    )
    data = range_data(result)
    assert data.requested_step_seconds == 1
    assert data.step_seconds == 43200  # 90d / 250 = 31104 s, rounded up to 12h
    assert "used the automatic step" in result.content


def test_series_over_the_cap_are_counted_not_listed(prometheus: PrometheusProcess) -> None:
    config = PrometheusConfig(url=prometheus.url, max_series=20, shown_series=5)
    result = PrometheusRangeQueryTool(config).run(
        RangeQueryArgs(query="pod_cpu_usage", lookback="1h")
    )
    data = range_data(result)
    assert data.total_series == 150
    assert len(data.series) == 20
    assert data.series[0].labels["pod"] == "web-149"  # highest peak first
    assert result.truncated
    assert "145 more series not shown" in result.content
    assert result.content.count("\n- ") == 5


def test_content_stays_within_a_small_budget(prometheus: PrometheusProcess) -> None:
    budget = OutputBudget(max_tokens=100)
    config = PrometheusConfig(url=prometheus.url, shown_series=50, output=budget)
    result = PrometheusRangeQueryTool(config).run(
        RangeQueryArgs(query="pod_cpu_usage", lookback="1h")
    )
    assert len(result.content) <= budget.max_chars
    assert "more series not shown" in result.content


def test_label_values_finds_metric_names(prometheus: PrometheusProcess) -> None:
    tool = PrometheusLabelValuesTool(PrometheusConfig(url=prometheus.url))
    result = tool.run(LabelValuesArgs(contains="HTTP"))
    assert isinstance(result.data, LabelValuesData)
    assert result.data.values == ["http_requests_total"]
    services = tool.run(LabelValuesArgs(label="service", match=["http_requests_total"]))
    assert isinstance(services.data, LabelValuesData)
    assert services.data.values == ["cart", "checkout"]


def test_series_lists_the_label_sets_of_a_metric(prometheus: PrometheusProcess) -> None:
    tool = PrometheusSeriesTool(PrometheusConfig(url=prometheus.url))
    result = tool.run(SeriesArgs(match=['http_requests_total{service="cart"}']))
    assert isinstance(result.data, SeriesListData)
    assert sorted(s["code"] for s in result.data.series) == ["200", "500"]
    assert 'http_requests_total{code="500", service="cart"}' in result.content


def test_alerts_lists_the_firing_rule_alert(prometheus: PrometheusProcess) -> None:
    tool = PrometheusAlertsTool(PrometheusConfig(url=prometheus.url))
    deadline = time.monotonic() + 15
    result = tool.run(AlertsArgs(state="firing"))
    while result.no_data and time.monotonic() < deadline:  # rules evaluate every second
        time.sleep(0.2)
        result = tool.run(AlertsArgs(state="firing"))
    assert isinstance(result.data, AlertsData), result.content
    (alert,) = result.data.alerts
    assert alert.labels == {"alertname": "HighErrorRate", "service": "checkout", "severity": "page"}
    assert "checkout serves too many 5xx" in result.content
    assert result.evidence[0].link == f"{prometheus.url}/alerts"
    assert tool.run(AlertsArgs(alertname="Nothing")).no_data


def test_unreachable_prometheus_gives_an_error_result(prometheus: PrometheusProcess) -> None:
    tool = PrometheusQueryTool(PrometheusConfig(url=f"http://127.0.0.1:{free_port()}"))
    result = tool.run(InstantQueryArgs(query="up"))
    assert result.is_error
    assert result.error_kind is ErrorKind.UNAVAILABLE
    assert "Cannot reach Prometheus" in result.content
    assert "connection refused" in result.content


def test_results_with_too_many_series_are_refused_with_advice(
    prometheus: PrometheusProcess,
) -> None:
    config = PrometheusConfig(url=prometheus.url, max_response_series=100)
    result = PrometheusRangeQueryTool(config).run(
        RangeQueryArgs(query="pod_cpu_usage", lookback="1h")
    )
    assert result.error_kind is ErrorKind.TOO_LARGE
    assert "150 series" in result.content
    assert "sum by" in result.content
