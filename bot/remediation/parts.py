"""What remediation's steps share: built once by `Remediation`, handed to each step.

Proposing, approving, executing, recovering and reporting are separate modules; each takes
these parts (the store, the metrics, the policy, the catalog, the guards, the approver
directory, the cards, the escalator and the execution queue) rather than the service that
owns them, so the steps never import the service and the service is the only place they
meet.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from bot.metrics import Metrics
from bot.remediation.cards import Cards
from bot.remediation.catalog import Catalog
from bot.remediation.directory import Directory
from bot.remediation.escalation import Escalator
from bot.remediation.guards import Guards
from bot.settings import RemediationSettings
from bot.store.db import Database
from policies import Policy


@dataclass(frozen=True)
class Parts:
    """The collaborators every remediation step may use; `submit` queues an execution and
    `prometheus_url` is where validation re-reads the triggering alert (None: not at all)."""

    db: Database
    metrics: Metrics
    settings: RemediationSettings
    prometheus_url: str | None
    policy: Policy
    catalog: Catalog
    guards: Guards
    directory: Directory
    cards: Cards
    escalator: Escalator
    submit: Callable[[str], Future[Any]]
