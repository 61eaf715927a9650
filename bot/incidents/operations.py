"""What people do to incidents by hand: list, show, declare, acknowledge, resolve, silence.

Each change is audited in the same transaction and bumps the header version, so the
notifier edits the thread's header in place.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import httpx
from sqlmodel import col, select

from bot.audit import chain as audit
from bot.errors import BadInput, DependencyDown
from bot.incidents.lifecycle import resolve
from bot.store.db import Database
from bot.store.incidents import Alert, Incident, IncidentEvent
from bot.store.models import utcnow


def list_open(db: Database, limit: int = 20) -> list[Incident]:
    with db.session() as session:
        return list(
            session.exec(
                select(Incident)
                .where(col(Incident.status) != "resolved")
                .order_by(col(Incident.opened_at).desc())
                .limit(limit)
            ).all()
        )


def get(db: Database, incident_id: int) -> tuple[Incident, list[IncidentEvent]]:
    with db.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise BadInput(f"no incident #{incident_id}", status=404)
        events = session.exec(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(col(IncidentEvent.at))
        ).all()
        return incident, list(events)


INCIDENT_ID_MAX = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL


def parse_id(text: str) -> int:
    """An incident id typed or clicked ("42", "#42"); BadInput for anything else, including
    numbers no incident can have (PostgreSQL would refuse them as out of range)."""
    found = re.fullmatch(r"#?(\d{1,10})", text.strip())
    if found is None or not 0 < int(found[1]) <= INCIDENT_ID_MAX:
        shown = text.strip()[:40]
        raise BadInput(f"'{shown}' is not an incident id (expected a number like 42)")
    return int(found[1])


def storable(text: str) -> str:
    """User text the store can hold: PostgreSQL text has no NUL, UTF-8 no lone surrogate."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def declare(
    db: Database, channel: str, title: str, user: str, severity: str = "warning"
) -> Incident:
    """Open an incident by hand in `channel` (audited); BadInput when the title is empty."""
    title = storable(title).strip()
    if not title:
        raise BadInput("give the incident a title: /incident declare <title>")
    now = utcnow()
    key = f"manual:{uuid.uuid4().hex[:12]}"
    with db.session() as session:
        incident = Incident(
            key=key,
            open_key=key,
            title=title[:300],
            severity=severity,
            source="manual",
            rule="declared",
            opened_at=now,
            last_alert_at=now,
            notify_at=now,
            channel=channel,
            header_version=1,
        )
        session.add(incident)
        session.flush()
        session.add(
            IncidentEvent(
                incident_id=incident.id or 0, kind="declared", at=now, text=f"declared by <@{user}>"
            )
        )
        audit.append(
            session,
            actor=user,
            action="incident.declared",
            subject=f"incident:{incident.id}",
            detail={"title": title},
        )
        return incident


def _change(db: Database, incident_id: int, user: str, action: str) -> Incident:
    now = utcnow()
    with db.session() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise BadInput(f"no incident #{incident_id}", status=404)
        if incident.status == "resolved":
            raise BadInput(f"incident #{incident_id} is already resolved", status=409)
        if action == "acknowledge":
            if incident.status == "acknowledged":
                raise BadInput(
                    f"incident #{incident_id} was already acknowledged by "
                    f"<@{incident.acknowledged_by}>",
                    status=409,
                )
            incident.status, incident.acknowledged_by = "acknowledged", user
            session.add(
                IncidentEvent(
                    incident_id=incident_id,
                    kind="acknowledged",
                    at=now,
                    text=f"acknowledged by <@{user}>",
                )
            )
        else:
            resolve(session, incident, now, by=f"<@{user}>")
        incident.header_version += 1
        session.add(incident)
        audit.append(
            session,
            actor=user,
            action="incident.acknowledged" if action == "acknowledge" else "incident.resolved",
            subject=f"incident:{incident_id}",
        )
        return incident


def acknowledge(db: Database, incident_id: int, user: str) -> Incident:
    return _change(db, incident_id, user, "acknowledge")


def resolve_by_hand(db: Database, incident_id: int, user: str) -> Incident:
    return _change(db, incident_id, user, "resolve")


def silence_matchers(alerts: list[Alert]) -> list[dict[str, object]]:
    """Matchers covering exactly this incident's alerts: their common labels, and the
    alert names as a regex when there are several."""
    if not alerts:
        return []
    common = set(alerts[0].labels.items())
    for alert in alerts[1:]:
        common &= set(alert.labels.items())
    matchers: list[dict[str, object]] = [
        {"name": k, "value": v, "isRegex": False, "isEqual": True}
        for k, v in sorted(common)
        if k != "alertname"
    ]
    names = sorted({a.name for a in alerts})
    matchers.insert(
        0,
        {
            "name": "alertname",
            "value": "|".join(re.escape(n) for n in names),
            "isRegex": len(names) > 1,
            "isEqual": True,
        },
    )
    return matchers


def silence(
    db: Database, alertmanager_url: str | None, incident_id: int, user: str, hours: float = 1.0
) -> str:
    """Create a real Alertmanager silence for the incident's alerts at `alertmanager_url`
    (its API base); returns its id."""
    base = alertmanager_url
    if not base:
        raise BadInput("silencing needs OPSBOT_ALERTMANAGER_URL (the Alertmanager API)")
    with db.session() as session:
        alerts = list(session.exec(select(Alert).where(Alert.incident_id == incident_id)).all())
    if not alerts:
        raise BadInput(f"incident #{incident_id} has no alerts to silence")
    now: datetime = utcnow()
    body = {
        "matchers": silence_matchers(alerts),
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=hours)).isoformat(),
        "createdBy": f"opsbot for {user}",
        "comment": f"Silenced from Slack for incident #{incident_id}",
    }
    try:
        response = httpx.post(f"{base.rstrip('/')}/api/v2/silences", json=body, timeout=10)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise DependencyDown(f"Alertmanager did not create the silence: {exc}") from exc
    silence_id = str(response.json()["silenceID"])
    with db.session() as session:
        session.add(
            IncidentEvent(
                incident_id=incident_id,
                kind="silenced",
                at=now,
                text=f"silenced for {hours:g}h by <@{user}> ({silence_id})",
            )
        )
        audit.append(
            session,
            actor=user,
            action="incident.silenced",
            subject=f"incident:{incident_id}",
            detail={"silence_id": silence_id, "matchers": body["matchers"]},
        )
    return silence_id
