"""One capacity report for a namespace or everything: forecasts, rightsizing and idle
resources gathered side by side, each failing on its own (recorded in `skipped`), and kept
in the cache for a few minutes since the digest, `/opsbot capacity` and `/ask-ai` ask for
the same thing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from pydantic import TypeAdapter, ValidationError

from bot.cache import Cache
from bot.capacity.analyses import Analyses, Part, Sources, default_analyses
from bot.capacity.models import CapacityReport, Skip
from bot.capacity.verdicts import one_verdict
from bot.logs import get_logger
from bot.settings import CapacitySettings, ToolsSettings
from bot.sources import tools_config
from tools.k8s.connection import build_api_client
from tools.metrics.api import PrometheusApi
from tools.metrics.frames import RangeFrames

log = get_logger("opsbot.capacity")
CACHE_SECONDS = 300.0
_REPORT = TypeAdapter(CapacityReport)


def run_analyses(
    sources: Sources,
    settings: CapacitySettings,
    now: datetime,
    namespace: str | None,
    analyses: Analyses,
) -> tuple[list[Part], int]:
    """Every analysis' part and how many failed (a failure is named in its part's skipped)."""
    found: list[Part] = []
    failed = 0
    for name, analysis in analyses.parts:
        try:
            found.append(analysis(sources, settings, now, namespace))
        except Exception as exc:  # noqa: BLE001 - the boundary of each independent analysis
            log.warning("capacity analysis failed", analysis=name, error=str(exc)[:300])
            found.append(Part(skipped=(Skip(f"{name}: {type(exc).__name__}: {str(exc)[:200]}"),)))
            failed += 1
    return found, failed


def combine(parts: list[Part], now: datetime, namespace: str | None) -> CapacityReport:
    """The parts side by side, then one verdict per workload (`bot.capacity.verdicts`)."""
    return one_verdict(
        CapacityReport(
            generated_at=now,
            namespace=namespace,
            forecasts=tuple(f for part in parts for f in part.forecasts),
            exhaustions=tuple(e for part in parts for e in part.exhaustions),
            rightsizing=tuple(r for part in parts for r in part.rightsizing),
            idle=tuple(i for part in parts for i in part.idle),
        ),
        [s for part in parts for s in part.skipped],
    )


def gather(
    sources: Sources,
    settings: CapacitySettings,
    now: datetime,
    namespace: str | None = None,
    analyses: Analyses | None = None,
) -> CapacityReport:
    """Run every analysis; one that fails is named in `skipped` and the others still count."""
    parts, _ = run_analyses(sources, settings, now, namespace, analyses or default_analyses())
    return combine(parts, now, namespace)


def cache_key(namespace: str | None) -> str:
    return f"capacity:report:{namespace or '*'}"


def cached_report(
    cache: Cache, namespace: str | None, now: datetime, ttl: float = CACHE_SECONDS
) -> CapacityReport | None:
    stored = cache.get(cache_key(namespace))
    if stored is None:
        return None
    try:
        report = _REPORT.validate_json(stored)
    except ValidationError:
        cache.delete(cache_key(namespace))
        return None
    fresh = abs((report.generated_at - now).total_seconds()) <= ttl
    return report if fresh else None


def remember(cache: Cache, report: CapacityReport, ttl: float = CACHE_SECONDS) -> None:
    cache.set(cache_key(report.namespace), _REPORT.dump_json(report), ttl)


@contextmanager
def open_sources(tools: ToolsSettings) -> Iterator[Sources]:
    """Prometheus and Kubernetes clients from the bot's data-source settings."""
    config = tools_config(tools)
    sources = Sources()
    try:
        if config.prometheus is not None:
            sources.prometheus = PrometheusApi(config.prometheus)
            sources.frames = RangeFrames(config.prometheus)
        if config.kubernetes is not None:
            sources.kube = build_api_client(config.kubernetes)
        yield sources
    finally:
        if sources.prometheus is not None:
            sources.prometheus.close()
        if sources.frames is not None:
            sources.frames.close()
        if sources.kube is not None:
            sources.kube.close()  # type: ignore[no-untyped-call]


class CapacityReports:
    """Builds capacity reports from the data sources, reusing a recent one from the cache;
    built by the composition root with the cache, the data-source settings and the
    capacity thresholds."""

    def __init__(self, cache: Cache, tools: ToolsSettings, settings: CapacitySettings) -> None:
        self.cache = cache
        self.tools = tools
        self.settings = settings

    def build(
        self,
        now: datetime | None = None,
        namespace: str | None = None,
        *,
        analyses: Analyses | None = None,
        use_cache: bool = True,
    ) -> CapacityReport:
        """The report for `namespace` (None: everything) as of `now`; a report computed
        less than `CACHE_SECONDS` from `now` is reused."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        scope = namespace.strip() if namespace and namespace.strip() else None
        if use_cache:
            hit = cached_report(self.cache, scope, moment)
            if hit is not None:
                return hit
        chosen = analyses or default_analyses()
        with open_sources(self.tools) as sources:
            parts, failed = run_analyses(sources, self.settings, moment, scope, chosen)
        report = combine(parts, moment, scope)
        if use_cache and failed < len(chosen.parts):  # never keep a report of nothing but errors
            remember(self.cache, report)
        return report
