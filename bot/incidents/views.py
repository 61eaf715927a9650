"""Read models of incidents for rendering (store rows → the pure builders' views)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.incidents.blocks import ActionLine, AlertLine, IncidentView, LinkLine
from bot.store.actions import ActionRecord
from bot.store.incidents import Alert, Incident, IncidentEvent
from bot.store.models import aware


def view_of(session: Session, incident: Incident) -> IncidentView:
    alerts = session.exec(
        select(Alert).where(Alert.incident_id == incident.id).order_by(col(Alert.starts_at))
    ).all()
    actions = session.exec(
        select(ActionRecord)
        .where(ActionRecord.incident_id == incident.id)
        .order_by(col(ActionRecord.created_at))
    ).all()
    return IncidentView(
        id=incident.id or 0,
        title=incident.title,
        severity=incident.severity,
        service=incident.service,
        namespace=incident.namespace,
        status=incident.status,
        opened_at=aware(incident.opened_at),
        acknowledged_by=incident.acknowledged_by,
        external_url=incident.external_url,
        alerts=tuple(
            AlertLine(
                name=a.name,
                status=a.status,
                summary=str(a.annotations.get("summary", "")),
                generator_url=a.generator_url,
                runbook_url=str(a.annotations.get("runbook_url", "")),
                starts_at=aware(a.starts_at),
            )
            for a in alerts
        ),
        actions=tuple(ActionLine(kind=a.kind, target=a.target, state=a.state) for a in actions),
        links=links_of(session, incident.id or 0),
    )


LINKED = "linked"  # the timeline kind of a link to another incident (bot.incidents.linker)


def links_of(session: Session, incident_id: int) -> tuple[LinkLine, ...]:
    """The incident's links to other incidents, from its timeline, with each other
    incident's current title."""
    events = session.exec(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind == LINKED)
        .order_by(col(IncidentEvent.at))
    ).all()
    lines = []
    for event in events:
        other = session.get(Incident, int(event.detail.get("other", 0)))
        if other is None:
            continue
        lines.append(
            LinkLine(
                relation=str(event.detail.get("relation", "related to")),
                other_id=other.id or 0,
                other_title=other.title,
                other_service=other.service,
                permalink=str(event.detail.get("permalink", "")),
                because=str(event.detail.get("because", "")),
            )
        )
    return tuple(lines)


def similar_incidents(
    session: Session, incident: Incident, now: datetime, days: int = 7, limit: int = 3
) -> list[tuple[int, str, datetime]]:
    since = now - timedelta(days=days)
    rows = session.exec(
        select(Incident)
        .where(Incident.id != incident.id)
        .where((Incident.key == incident.key) | (Incident.title == incident.title))
        .where(col(Incident.opened_at) >= since)
        .order_by(col(Incident.opened_at).desc())
        .limit(limit)
    ).all()
    return [(r.id or 0, r.title, aware(r.opened_at)) for r in rows]
