"""What every Prometheus tool shares: the API client, the clock, and series rendering."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import httpx

from tools.base import ArgsT, ErrorKind, Evidence, Tool, ToolFailure, utc_now
from tools.budget import fit_items, shorten
from tools.config import PrometheusConfig
from tools.metrics.api import PrometheusApi
from tools.metrics.series import SeriesSummary, describe

T = TypeVar("T")
NO_DATA_HINT = (
    "The metric or label values may not exist in that window: check names with "
    "prometheus_label_values (label __name__) or prometheus_series, or widen the window."
)


class PrometheusTool(Tool[ArgsT]):
    """Base of the Prometheus tools; several tools may share one `PrometheusApi`."""

    def __init__(
        self,
        config: PrometheusConfig,
        *,
        api: PrometheusApi | None = None,
        clock: Callable[[], datetime] = utc_now,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.api = api or PrometheusApi(config, transport=transport)
        self.clock = clock

    @property
    def ui_url(self) -> str:
        return self.config.ui_url or self.config.url

    def close(self) -> None:
        self.api.close()

    def attempt(self, query: str, link: str, call: Callable[[], T]) -> T:
        """Run `call`; a failure carries evidence of the query that failed (for the audit)."""
        try:
            return call()
        except ToolFailure as failure:
            failure.evidence = Evidence(
                tool=self.name, query=query, link=link, excerpt=shorten(failure.message, 300)
            )
            raise

    def require_series_at_most(self, count: int) -> None:
        """Refuse results too large to summarise usefully."""
        if count > self.config.max_response_series:
            raise ToolFailure(
                ErrorKind.TOO_LARGE,
                f"The query returned {count:,} series, more than the "
                f"{self.config.max_response_series:,} this tool summarises. Aggregate it "
                "(sum by (service) (...), topk(10, ...)) or add label matchers.",
            )

    def render_series(
        self, header: str, ranked: Sequence[SeriesSummary], total: int
    ) -> tuple[str, bool]:
        """Header plus the top series by peak, counting the rest; (content, truncated)."""
        lines = [describe(s) for s in ranked[: self.config.shown_series]]
        return self.render_lines(header, lines, total, "sorted by peak value")

    def render_lines(
        self, header: str, lines: Sequence[str], total: int, order: str
    ) -> tuple[str, bool]:
        """Header plus whole lines within the budget and a note on how many were left out."""

        def note(left_out: int) -> str:
            hidden = left_out + (total - len(lines))
            return (
                f"... and {hidden} more series not shown ({order}). Narrow with label "
                "matchers or aggregate, e.g. sum by (job) (...), or topk(5, ...)."
            )

        content, dropped = fit_items(header, lines, self.config.output.max_chars, note)
        if not dropped and total > len(lines):
            content += "\n" + note(0)
        return content, bool(dropped) or total > len(lines)


def excerpt_of(content: str) -> str:
    """The evidence excerpt: the first lines of the content, short."""
    return shorten(" | ".join(content.splitlines()[:3]), 300)
