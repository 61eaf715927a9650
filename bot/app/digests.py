"""The digests' part of the composition root: each digest's builder handed exactly what it
reads (the store, metrics, the settings sections, a data-source config, capacity reports,
the capacity review), and the `Digests` that builds, posts and records them.

It sits beside `runtime.py` rather than in it so the command line (`opsbot digest run`)
builds the same digests without importing the whole bot (about two seconds more).

The builder modules are imported inside their builders, when a digest is first built:
they draw with matplotlib, which is slow to import (about a second) and which most
processes never need. Those function-level imports are for matplotlib only.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient

from bot.capacity.models import CapacityReport
from bot.capacity.report import CapacityReports
from bot.deps import Deps
from bot.digests.output import DigestBuilder, DigestOutput, DigestRequest
from bot.digests.registry import Digests
from bot.remediation.escalation import SlackThread
from bot.sources import tools_config

Propose = Callable[[CapacityReport, SlackThread], None]
"""The capacity review: a report's recommendations proposed as cards in a thread (the
type of `bot.digests.capacity_digest.Propose`, which cannot be imported here before its
charts)."""


def digest_builders(
    deps: Deps, reports: CapacityReports, propose: Propose | None
) -> dict[str, DigestBuilder]:
    """One builder per digest name (`bot.digests.DIGESTS`), each handed what it reads.
    `propose` (None: no capacity review) follows the capacity digest when the settings
    turn the review on."""
    settings = deps.settings
    digest, llm = settings.digest, settings.llm
    sources = tools_config(settings.tools)
    review = propose if settings.capacity.propose else None

    def incidents(request: DigestRequest) -> DigestOutput:
        from bot.digests import incident_digest  # matplotlib, on first use

        return incident_digest.build(deps.db, digest.timezone, request)

    def logs(request: DigestRequest) -> DigestOutput:
        from bot.digests import log_digest  # matplotlib, on first use

        return log_digest.build(deps.db, deps.metrics, sources.logs, digest, llm, request)

    def performance(request: DigestRequest) -> DigestOutput:
        from bot.digests import performance  # matplotlib, on first use

        return performance.build(sources.jaeger, digest, request)

    def cost(request: DigestRequest) -> DigestOutput:
        from bot.digests import cost  # matplotlib, on first use

        return cost.build(deps.db, llm, digest.timezone, request)

    def roi(request: DigestRequest) -> DigestOutput:
        from bot.digests import roi  # matplotlib, on first use

        return roi.build(deps.db, digest, request)

    def capacity(request: DigestRequest) -> DigestOutput:
        from bot.digests import capacity_digest  # matplotlib, on first use

        return capacity_digest.build(reports, review, request)

    return {
        "incidents": incidents,
        "logs": logs,
        "performance": performance,
        "cost-daily": cost,
        "cost-monthly": cost,
        "roi": roi,
        "capacity": capacity,
    }


def capacity_reports(deps: Deps) -> CapacityReports:
    """Capacity reports from the configured data sources, kept a few minutes in the cache
    (the digest, `/opsbot capacity` and `/ask-ai` ask for the same report)."""
    return CapacityReports(deps.cache, deps.settings.tools, deps.settings.capacity)


def build_digests(
    deps: Deps,
    client: WebClient,
    reports: CapacityReports | None = None,
    propose: Propose | None = None,
) -> Digests:
    """The digests posting through `client`; `propose` is the running bot's capacity review
    (the command line has none: its capacity digest proposes nothing)."""
    settings = deps.settings
    builders = digest_builders(deps, reports or capacity_reports(deps), propose)
    return Digests(deps.db, client, settings.digest, settings.capacity, builders)
