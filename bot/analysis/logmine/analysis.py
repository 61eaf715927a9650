"""Log analysis at scale: fetch a window from Elasticsearch/OpenSearch with push-down, mine
templates, sample, and compare the window with the ones before it.

Push-down: an aggregation counts the window's lines per service and level first, so the
bot knows what it is about to read; when that is more than `max_lines`, error and fatal
lines are streamed in full and the rest up to the budget (at least a tenth of it, oldest
first); the counts of what was not read are estimated per service and level. Lines
stream oldest first with `search_after`. The template miner's state is kept per stream
(index pattern) in the database and each window's counts are recorded, so the next
window's baseline is read from the store instead of the log store. Used by `opsbot logs
analyze` and the hourly log digest; `/ask-ai` can call `analyse_logs` the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from pydantic import BaseModel

from bot.analysis.logmine import (
    Level,
    Sampler,
    TemplateCount,
    TemplateMiner,
    WindowFindings,
    detect_level,
    parse_level,
    window_findings,
)
from bot.analysis.logmine.memory import load_miner, record_counts, save_miner, stored_counts
from bot.store.db import Database
from tools.config import LogSearchConfig
from tools.logs.client import search_failure
from tools.logs.dsl import LogFilter, filter_query
from tools.logs.stream import iter_logs
from tools.timewindow import TimeWindow

ERROR_LEVELS = ("error", "fatal")
_ERRORS = {Level.ERROR, Level.CRITICAL, Level.FATAL}
MAX_SAMPLED_LINES = 500
Progress = Callable[[str, int, int], None]
"""`progress(phase, lines_done, lines_expected)` after each streamed batch."""
Key = tuple[str, int, Level]  # (service, cluster id, level)


class SampledLine(BaseModel):
    timestamp: datetime | None
    service: str
    level: Level
    template_id: str
    reason: str
    message: str


class LogAnalysis(BaseModel):
    stream: str
    window_start: datetime
    window_end: datetime
    services: list[str]
    total: int  # lines matching the window (counted by the log store)
    mined: int  # lines read and mined
    skipped: int  # over the line budget: counted, not read
    by_level: dict[str, int]
    baseline_windows: int
    templates: dict[str, str]  # template id -> template
    counts: list[TemplateCount]  # estimated from what was read when lines were skipped
    findings: WindowFindings
    sampled: list[SampledLine]
    dropped: dict[str, dict[str, int]]  # template id -> level -> lines the sampler dropped


@dataclass(frozen=True)
class WindowPlan:
    total: int
    by_service_level: dict[tuple[str, str], int]

    @property
    def by_level(self) -> dict[str, int]:
        levels: Counter[str] = Counter()
        for (_, level), n in self.by_service_level.items():
            levels[parse_level(level).value] += n
        return dict(levels)


def plan_window(
    client: Elasticsearch, config: LogSearchConfig, log_filter: LogFilter
) -> WindowPlan:
    """Lines per service and level in the window, counted by the log store (no lines read)."""
    body: dict[str, Any] = {
        "query": filter_query(log_filter, config),
        "size": 0,
        "track_total_hits": True,
        "aggs": {
            "services": {
                "terms": {"field": config.service_field, "size": config.max_terms},
                "aggs": {"levels": {"terms": {"field": config.level_field, "size": 20}}},
            }
        },
    }
    try:
        response = client.search(index=config.index_pattern, **body)
    except (ApiError, TransportError) as exc:
        raise search_failure(exc, config) from None
    counts: dict[tuple[str, str], int] = {}
    for service in response["aggregations"]["services"]["buckets"]:
        for level in service["levels"]["buckets"]:
            counts[(str(service["key"]), str(level["key"]))] = int(level["doc_count"])
    return WindowPlan(total=int(response["hits"]["total"]["value"]), by_service_level=counts)


class WindowMiner:
    """Streams windows through one miner and sampler, counting (service, template, level)."""

    def __init__(
        self,
        client: Elasticsearch,
        config: LogSearchConfig,
        miner: TemplateMiner,
        *,
        max_lines: int,
        progress: Progress | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.miner = miner
        self.max_lines = max_lines
        self.progress = progress
        self.sampler = Sampler()
        self.sampled: list[SampledLine] = []

    def mine(
        self, window: TimeWindow, services: Sequence[str], phase: str, *, sample: bool
    ) -> tuple[Counter[Key], WindowPlan, int]:
        """Counts of one window, its plan, and how many lines were read."""
        # The log store's range is inclusive at both ends; a window owns its start only.
        owned = TimeWindow(window.start, window.end - timedelta(milliseconds=1))
        base = LogFilter(window=owned, services=tuple(services))
        plan = plan_window(self.client, self.config, base)
        if plan.total <= self.max_lines:
            passes: list[tuple[LogFilter, int | None]] = [(base, None)]
        else:  # errors in full first, then the rest up to the budget
            others = tuple(
                sorted({lvl for _, lvl in plan.by_service_level if parse_level(lvl) not in _ERRORS})
            )
            passes = [
                (LogFilter(window=owned, services=base.services, levels=ERROR_LEVELS), None),
                (LogFilter(window=owned, services=base.services, levels=others), self.max_lines),
            ]
        counts: Counter[Key] = Counter()
        read = 0
        for log_filter, cap in passes:
            if not log_filter.levels and cap is not None:
                continue
            # Some routine lines are read whatever the errors took, so their templates are
            # known and their counts can be estimated (see `scaled`).
            budget = None if cap is None else max(cap - read, cap // 10, 1)
            for record in iter_logs(self.client, self.config, log_filter, max_documents=budget):
                level = parse_level(record.level)
                if level is Level.UNKNOWN:
                    level = detect_level(record.message)
                stamp = record.timestamp.timestamp() if record.timestamp else None
                cluster = self.miner.add(record.message, timestamp=stamp).cluster_id
                service = record.service or "unknown"
                counts[(service, cluster, level)] += 1
                if sample:
                    self._sample(record.message, record.timestamp, service, level, cluster)
                read += 1
                if self.progress is not None and read % 500 == 0:
                    self.progress(phase, read, min(plan.total, self.max_lines))
        if self.progress is not None:
            self.progress(phase, read, read)
        if read < plan.total:
            counts = scaled(counts, plan)
        return counts, plan, read

    def _sample(
        self, message: str, at: datetime | None, service: str, level: Level, cluster: int
    ) -> None:
        decision = self.sampler.offer(message, str(cluster), level)
        if decision.keep and len(self.sampled) < MAX_SAMPLED_LINES:
            self.sampled.append(
                SampledLine(
                    timestamp=at,
                    service=service,
                    level=level,
                    template_id=str(cluster),
                    reason=decision.reason,
                    message=message,
                )
            )


def scaled(counts: Counter[Key], plan: WindowPlan) -> Counter[Key]:
    """Counts of a window read in part, scaled up per (service, level) to the totals the
    log store counted: what was not read is estimated from what was."""
    planned: Counter[tuple[str, Level]] = Counter()
    for (service, level), n in plan.by_service_level.items():
        planned[(service, parse_level(level))] += n
    seen: Counter[tuple[str, Level]] = Counter()
    for (service, _, level), n in counts.items():
        seen[(service, level)] += n
    return Counter(
        {
            key: max(n, round(n * planned[(key[0], key[2])] / seen[(key[0], key[2])]))
            for key, n in counts.items()
        }
    )


def template_counts(rows: Sequence[Sequence[Any]], miner: TemplateMiner) -> list[TemplateCount]:
    """Stored or fresh counts with cluster ids resolved to today's clusters (folded ids
    follow their alias; evicted ones keep their id and have no text)."""
    merged: Counter[tuple[str, str, Level]] = Counter()
    texts: dict[str, str] = {}
    for service, cluster_id, level, n in rows:
        cluster = miner.get(int(cluster_id))
        key = str(cluster.cluster_id) if cluster else str(cluster_id)
        texts[key] = cluster.template if cluster else f"template {cluster_id}"
        merged[(str(service), key, Level(level))] += int(n)
    return [
        TemplateCount(service=s, template_id=t, template=texts[t], level=lvl, count=n)
        for (s, t, lvl), n in sorted(merged.items())
    ]


def analyse_logs(
    db: Database,
    client: Elasticsearch,
    config: LogSearchConfig,
    window: TimeWindow,
    *,
    services: Sequence[str] = (),
    baseline_windows: int = 6,
    max_lines: int = 200_000,
    progress: Progress | None = None,
) -> LogAnalysis:
    """Mine `window` and compare it with the `baseline_windows` windows of equal length
    before it (read from the store when recorded, else mined from the log store)."""
    stream = config.index_pattern
    window = TimeWindow(window.start.astimezone(UTC), window.end.astimezone(UTC))
    miner = load_miner(db, stream)
    worker = WindowMiner(client, config, miner, max_lines=max_lines, progress=progress)
    baselines: list[list[list[Any]]] = []
    read = 0
    for back in range(baseline_windows, 0, -1):
        earlier = TimeWindow(window.start - window.span * back, window.end - window.span * back)
        rows = stored_counts(db, stream, services, earlier)
        if rows is None:
            counts, _, lines = worker.mine(earlier, services, f"baseline -{back}", sample=False)
            rows, read = _rows(counts), read + lines
            record_counts(db, stream, services, earlier, rows)
        baselines.append(rows)
    counts, plan, lines = worker.mine(window, services, "window", sample=True)
    read += lines
    record_counts(db, stream, services, window, _rows(counts))
    save_miner(db, stream, miner, read)
    current = template_counts(_rows(counts), miner)
    return LogAnalysis(
        stream=stream,
        window_start=window.start,
        window_end=window.end,
        services=list(services),
        total=plan.total,
        mined=lines,
        skipped=max(plan.total - lines, 0),
        by_level=plan.by_level,
        baseline_windows=len(baselines),
        templates={c.template_id: c.template for c in current},
        counts=current,
        findings=window_findings(current, [template_counts(b, miner) for b in baselines]),
        sampled=worker.sampled,
        dropped={
            template: {str(level): n for level, n in levels.items()}
            for template, levels in worker.sampler.dropped_by_template().items()
        },
    )


def _rows(counts: Counter[Key]) -> list[list[Any]]:
    return [[service, cluster, str(level), n] for (service, cluster, level), n in counts.items()]
