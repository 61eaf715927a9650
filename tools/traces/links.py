"""Links into the Jaeger UI: one trace, or a search."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode


def trace_url(ui_url: str, trace_id: str) -> str:
    return f"{ui_url.rstrip('/')}/trace/{quote(trace_id, safe='')}"


def search_url(ui_url: str, params: Mapping[str, str]) -> str:
    """The UI's search page with the API search parameters (start/end in microseconds)."""
    ui_params = dict(params)
    if "start" in ui_params or "end" in ui_params:
        ui_params["lookback"] = "custom"
    return f"{ui_url.rstrip('/')}/search?{urlencode(ui_params)}"
