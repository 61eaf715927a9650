"""Stream every matching log document, oldest first, with search_after paging.

For code (the log miner), not for the model: it yields `LogRecord`s in batches of
`stream_batch_size`, sorted by timestamp and the configured tiebreaker. Failures raise
`ToolFailure` carrying the same actionable messages the tools give.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from tools.base import ErrorKind, ToolFailure
from tools.config import LogSearchConfig
from tools.logs.client import hits_of, search_failure
from tools.logs.dsl import LogFilter, LogRecord, filter_query, record_from_hit
from tools.timewindow import require_span_at_most


def iter_logs(
    client: Elasticsearch,
    config: LogSearchConfig,
    log_filter: LogFilter,
    *,
    batch_size: int | None = None,
    max_documents: int | None = None,
) -> Iterator[LogRecord]:
    """Every document matching `log_filter` (up to `max_documents`), oldest first."""
    require_span_at_most(log_filter.window, config.max_window, "Stream a shorter window.")
    size = min(batch_size or config.stream_batch_size, config.stream_batch_size)
    sort = [
        {config.timestamp_field: {"order": "asc"}},
        {config.tiebreaker_field: {"order": "asc"}},
    ]
    query = filter_query(log_filter, config)
    after: list[Any] | None = None
    yielded = 0
    while max_documents is None or yielded < max_documents:
        page = size if max_documents is None else min(size, max_documents - yielded)
        body: dict[str, Any] = {"query": query, "size": page, "sort": sort}
        if after is not None:
            body["search_after"] = after
        try:
            response = client.search(index=config.index_pattern, **body)
        except (ApiError, TransportError) as exc:
            raise search_failure(exc, config) from None
        hits = hits_of(dict(response.body))
        for hit in hits:
            yield record_from_hit(hit, config)
        yielded += len(hits)
        if len(hits) < page:
            return
        cursor = hits[-1].get("sort")
        if not isinstance(cursor, list) or cursor == after:
            raise ToolFailure(
                ErrorKind.UNAVAILABLE,
                f"The log store's search_after cursor did not advance (at {cursor!r}); "
                "stopped paging instead of reading the same page again.",
            )
        after = list(cursor)
