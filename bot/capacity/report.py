"""One capacity report for a namespace or everything: forecasts, rightsizing and idle
resources gathered side by side, each failing on its own (recorded in `skipped`), and kept
in the cache for a few minutes since the digest, `/opsbot capacity` and `/ask-ai` ask for
the same thing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kubernetes import client
from pydantic import TypeAdapter, ValidationError

from bot.app.deps import Deps
from bot.cache import Cache
from bot.capacity.models import CapacityReport, Forecast, IdleResource, Rightsizing
from bot.capacity.models import Exhaustion as ExhaustionResult
from bot.logs import get_logger
from bot.settings import CapacitySettings
from tools.metrics.api import PrometheusApi

log = get_logger("opsbot.capacity")
CACHE_SECONDS = 300.0
_REPORT = TypeAdapter(CapacityReport)


@dataclass
class Sources:
    """The backends the analyses read; None when not configured."""

    prometheus: PrometheusApi | None = None
    kube: client.ApiClient | None = None


@dataclass(frozen=True)
class Part:
    """What one analysis contributes to the report."""

    forecasts: tuple[Forecast, ...] = ()
    exhaustions: tuple[ExhaustionResult, ...] = ()
    rightsizing: tuple[Rightsizing, ...] = ()
    idle: tuple[IdleResource, ...] = ()
    skipped: tuple[str, ...] = ()


Analysis = Callable[[Sources, CapacitySettings, datetime, str | None], Part]


@dataclass(frozen=True)
class Analyses:
    """The three analyses by name (tests may pass their own)."""

    parts: tuple[tuple[str, Analysis], ...] = field(default_factory=tuple)


def default_analyses() -> Analyses:
    from bot.capacity.analyses import ANALYSES  # the one import point of the analysis modules

    return Analyses(ANALYSES)


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
            found.append(Part(skipped=(f"{name}: {type(exc).__name__}: {str(exc)[:200]}",)))
            failed += 1
    return found, failed


def combine(parts: list[Part], now: datetime, namespace: str | None) -> CapacityReport:
    return CapacityReport(
        generated_at=now,
        namespace=namespace,
        forecasts=tuple(f for part in parts for f in part.forecasts),
        exhaustions=tuple(e for part in parts for e in part.exhaustions),
        rightsizing=tuple(r for part in parts for r in part.rightsizing),
        idle=tuple(i for part in parts for i in part.idle),
        skipped=tuple(s for part in parts for s in part.skipped),
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
def open_sources(deps: Deps) -> Iterator[Sources]:
    """Prometheus and Kubernetes clients from the bot's data-source settings."""
    from bot.investigation.investigator import (
        tools_config,  # the investigator imports the capacity tools
    )
    from tools.k8s.connection import build_api_client

    config = tools_config(deps.settings)
    sources = Sources()
    try:
        if config.prometheus is not None:
            sources.prometheus = PrometheusApi(config.prometheus)
        if config.kubernetes is not None:
            sources.kube = build_api_client(config.kubernetes)
        yield sources
    finally:
        if sources.prometheus is not None:
            sources.prometheus.close()
        if sources.kube is not None:
            sources.kube.close()  # type: ignore[no-untyped-call]


def build_capacity_report(
    deps: Deps,
    now: datetime | None = None,
    namespace: str | None = None,
    *,
    analyses: Analyses | None = None,
    use_cache: bool = True,
) -> CapacityReport:
    """The report for `namespace` (None: everything) as of `now`; a report computed less
    than `CACHE_SECONDS` from `now` is reused."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    scope = namespace.strip() if namespace and namespace.strip() else None
    if use_cache:
        hit = cached_report(deps.cache, scope, moment)
        if hit is not None:
            return hit
    chosen = analyses or default_analyses()
    with open_sources(deps) as sources:
        parts, failed = run_analyses(sources, deps.settings.capacity, moment, scope, chosen)
    report = combine(parts, moment, scope)
    if use_cache and failed < len(chosen.parts):  # never keep a report of nothing but errors
        remember(deps.cache, report)
    return report
