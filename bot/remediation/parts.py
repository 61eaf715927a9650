"""What remediation's steps share: built once by `Remediation`, handed to each step.

Proposing, approving, executing, recovering and reporting are separate modules; each takes
these parts (the store, the policy, the catalog, the guards, the approver directory, the
cards, the escalator and the execution queue) rather than the service that owns them, so
the steps never import the service and the service is the only place they meet.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from bot.deps import Deps
from bot.remediation.cards import Cards
from bot.remediation.catalog import Catalog
from bot.remediation.directory import Directory
from bot.remediation.escalation import Escalator
from bot.remediation.guards import Guards
from bot.settings import RemediationSettings
from policies import Policy


@dataclass(frozen=True)
class Parts:
    """The collaborators every remediation step may use; `submit` queues an execution."""

    deps: Deps
    settings: RemediationSettings
    policy: Policy
    catalog: Catalog
    guards: Guards
    directory: Directory
    cards: Cards
    escalator: Escalator
    submit: Callable[[str], Future[Any]]
