"""Links into Prometheus' own expression browser (`/graph?g0.expr=...`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from tools.timewindow import format_duration


def _browser_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def graph_url(
    base_url: str, expr: str, *, end: datetime, span: timedelta, step: timedelta | None = None
) -> str:
    """The graph tab showing `expr` over `span` ending at `end`."""
    params = {
        "g0.expr": expr,
        "g0.tab": "0",
        "g0.stacked": "0",
        "g0.show_exemplars": "0",
        "g0.range_input": format_duration(span),
        "g0.end_input": _browser_time(end),
    }
    if step is not None:
        params["g0.step_input"] = f"{step.total_seconds():g}"
    return f"{base_url.rstrip('/')}/graph?{urlencode(params)}"


def table_url(base_url: str, expr: str, *, at: datetime) -> str:
    """The table tab evaluating `expr` at one instant."""
    params = {
        "g0.expr": expr,
        "g0.tab": "1",
        "g0.stacked": "0",
        "g0.show_exemplars": "0",
        "g0.range_input": "1h",
        "g0.moment_input": _browser_time(at),
    }
    return f"{base_url.rstrip('/')}/graph?{urlencode(params)}"


def alerts_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/alerts"
