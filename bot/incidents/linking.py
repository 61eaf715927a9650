"""Which open incidents are one problem seen from two services: pure.

Two incidents are linked when their services depend on each other in the service graph
the traces show (caller -> callee) and they opened close together in the same namespace.
An incident on a service that another incident's service calls, directly or through
others, is the likely cause; the caller's incident is its likely consequence (checkout
fails because payments crash-loops). Services that call each other both ways are only
"related": the graph alone cannot say which way the failure runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.investigation.service_graph import ServiceGraph

LINK_WINDOW = timedelta(minutes=30)  # incidents opened further apart are not linked


class Relation(StrEnum):
    """How an incident stands to the one it is linked with, in the header's words."""

    CAUSED_BY = "likely caused by"
    CAUSES = "likely the cause of"
    RELATED = "related to"

    @property
    def mirrored(self) -> Relation:
        """The same link seen from the other incident."""
        return {
            Relation.CAUSED_BY: Relation.CAUSES,
            Relation.CAUSES: Relation.CAUSED_BY,
        }.get(self, Relation.RELATED)


@dataclass(frozen=True)
class LinkCandidate:
    """What linking needs to know of an open incident."""

    id: int
    service: str
    namespace: str
    opened_at: datetime


@dataclass(frozen=True)
class IncidentLink:
    """`incident_id` is `relation` `other_id`, because of the path between their services."""

    incident_id: int
    other_id: int
    relation: Relation
    path: tuple[str, ...]

    @property
    def mirrored(self) -> IncidentLink:
        return IncidentLink(self.other_id, self.incident_id, self.relation.mirrored, self.path)

    def because(self) -> str:
        """Why, in words: `checkout calls payments` or `frontend calls checkout, which
        calls payments`."""
        first, *rest = self.path
        text = f"{first} calls {rest[0]}" if rest else first
        for callee in rest[1:]:
            text += f", which calls {callee}"
        return text


def call_path(graph: ServiceGraph, caller: str, callee: str) -> tuple[str, ...] | None:
    """The shortest chain of calls from `caller` to `callee`, both included; None when
    `caller` does not depend on `callee`."""
    paths: dict[str, tuple[str, ...]] = {caller: (caller,)}
    frontier = [caller]
    while frontier:
        following = []
        for service in frontier:
            for nxt in sorted(graph.callees(service)):
                if nxt in paths:
                    continue
                paths[nxt] = (*paths[service], nxt)
                if nxt == callee:
                    return paths[nxt]
                following.append(nxt)
        frontier = following
    return None


def links_for(
    incident: LinkCandidate,
    others: Sequence[LinkCandidate],
    graph: ServiceGraph,
    window: timedelta = LINK_WINDOW,
) -> list[IncidentLink]:
    """The links of `incident` to `others`, from `incident`'s side: same namespace (when
    both name one), opened within `window` of each other, services joined by the graph."""
    found = []
    for other in others:
        if other.id == incident.id or not (incident.service and other.service):
            continue
        if other.service == incident.service:
            continue  # one service's alerts: the grouping rules decide, not the graph
        if incident.namespace and other.namespace and incident.namespace != other.namespace:
            continue
        if abs(incident.opened_at - other.opened_at) > window:
            continue
        down = call_path(graph, incident.service, other.service)
        up = call_path(graph, other.service, incident.service)
        if down and up:
            found.append(IncidentLink(incident.id, other.id, Relation.RELATED, down))
        elif down:
            found.append(IncidentLink(incident.id, other.id, Relation.CAUSED_BY, down))
        elif up:
            found.append(IncidentLink(incident.id, other.id, Relation.CAUSES, up))
    return found
