"""Alerts become incidents: dedup, correlation, reopen and resolution, in one transaction.

`ingest` is idempotent: replaying a webhook (Alertmanager retries, an HA pair, a crash
before the inbox row was marked) changes nothing that the first delivery did not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from bot.incidents.alertmanager import AmAlert, AmWebhook
from bot.store.incidents import EVENT_TEXT_MAX, Alert, Incident, IncidentEvent
from policies.routing import (
    IncidentRules,
    correlate,
    muted_by,
    notify_delay,
    route_for,
    workload_of,
)

SEVERITY_RANK = {"critical": 4, "page": 4, "error": 3, "high": 3, "warning": 2, "info": 1}


def severity_of(labels: dict[str, str]) -> str:
    return labels.get("severity", "none").lower()


def worst(severities: list[str]) -> str:
    return max(severities, key=lambda s: SEVERITY_RANK.get(s, 0), default="none")


@dataclass
class IngestResult:
    touched: set[int] = field(default_factory=set)
    opened: set[int] = field(default_factory=set)
    new_alerts: int = 0
    updated_alerts: int = 0
    repeats: int = 0


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut (for stored display
    texts whose column is bounded)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _title(alert: AmAlert) -> str:
    workload = workload_of(alert.labels)
    summary = alert.annotations.get("summary") or alert.annotations.get("description", "")
    if summary:
        return clip(summary, 300)
    return clip(f"{alert.name} on {workload}" if workload else alert.name, 300)


def _find_incident(
    session: Session, key: str, now: datetime, rules: IncidentRules
) -> Incident | None:
    """The open incident with this key, else one resolved within the reopen window."""
    found = session.exec(select(Incident).where(Incident.open_key == key)).first()
    if found is not None:
        return found
    recent = session.exec(
        select(Incident)
        .where(Incident.key == key, col(Incident.resolved_at).is_not(None))
        .order_by(col(Incident.resolved_at).desc())
        .limit(1)
    ).first()
    if recent is None or recent.resolved_at is None:
        return None
    resolved_at = recent.resolved_at
    if resolved_at.tzinfo is None:
        resolved_at = resolved_at.replace(tzinfo=now.tzinfo)
    if now - resolved_at > rules.reopen_window:
        return None
    recent.status, recent.open_key, recent.resolved_at = "open", key, None
    recent.reopen_count += 1
    recent.resolution_posted = True
    session.add(
        IncidentEvent(
            incident_id=recent.id or 0,
            kind="reopened",
            at=now,
            text=f"re-fired within {rules.reopen_window} of resolution",
        )
    )
    return recent


def _open_incident(
    session: Session,
    alert: AmAlert,
    payload: AmWebhook,
    key: str,
    rule: str,
    reason: str,
    now: datetime,
    rules: IncidentRules,
    default_channel: str,
) -> Incident:
    delay, _ = notify_delay(alert.labels, rules)
    route = route_for(alert.labels, rules, default_channel)
    incident = Incident(
        key=key,
        open_key=key,
        title=_title(alert),
        severity=severity_of(alert.labels),
        service=workload_of(alert.labels) or "",
        namespace=alert.labels.get("namespace", ""),
        rule=rule,
        opened_at=now,
        last_alert_at=now,
        notify_at=now + delay,
        muted_by=muted_by(alert.labels, now, rules),
        channel=route.channel,
        dedicated_channel=route.dedicated_channel,
        invite=list(route.invite),
        external_url=payload.external_url,
        labels=dict(alert.labels),
    )
    session.add(incident)
    session.flush()
    session.add(
        IncidentEvent(
            incident_id=incident.id or 0,
            kind="opened",
            at=now,
            text=clip(f"opened by {alert.name} (grouping: {rule}, {reason})", EVENT_TEXT_MAX),
            detail={"key": key, "route": route.name},
        )
    )
    return incident


def _stored_alerts(session: Session, payload: AmWebhook) -> dict[tuple[str, datetime], Alert]:
    """The payload's alerts already stored, by identity, in one query."""
    fingerprints = {am.fingerprint for am in payload.alerts}
    rows = session.exec(select(Alert).where(col(Alert.fingerprint).in_(fingerprints))).all()
    return {(row.fingerprint, _utc(row.starts_at)): row for row in rows}


def _joined_events(
    joined: dict[int, dict[str, int]], rules_by_incident: dict[int, str], now: datetime
) -> list[IncidentEvent]:
    """One timeline entry per incident and payload, naming the rule that merged them."""
    return [
        IncidentEvent(
            incident_id=incident_id,
            kind="alert_joined",
            at=now,
            text=clip(
                ", ".join(f"{name} x{count}" for name, count in sorted(names.items()))
                + f" joined ({rules_by_incident[incident_id]})",
                EVENT_TEXT_MAX,
            ),
            detail={"alerts": names, "rule": rules_by_incident[incident_id]},
        )
        for incident_id, names in joined.items()
    ]


def ingest(
    session: Session, payload: AmWebhook, now: datetime, rules: IncidentRules, default_channel: str
) -> IngestResult:
    result = IngestResult()
    stored_alerts = _stored_alerts(session, payload)
    by_key: dict[str, Incident | None] = {}
    joined: dict[int, dict[str, int]] = {}
    reasons: dict[int, str] = {}
    for am in payload.alerts:
        status = am.effective_status(payload.status, now)
        stored = stored_alerts.get((am.fingerprint, _utc(am.starts_at)))
        if stored is not None:
            if (stored.status, _naive(stored.ends_at), stored.annotations) == (
                status,
                _naive(am.ends_at),
                am.annotations,
            ):
                result.repeats += 1
                continue
            stored.status, stored.ends_at, stored.annotations = status, am.ends_at, am.annotations
            stored.receive_count += 1
            stored.last_seen = now
            session.add(stored)
            result.updated_alerts += 1
            result.touched.add(stored.incident_id)
            continue
        corr = correlate(am.labels, payload.group_key, rules)
        if corr.key not in by_key:
            by_key[corr.key] = _find_incident(session, corr.key, now, rules)
        incident = by_key[corr.key]
        if incident is None:
            if status == "resolved":
                result.repeats += 1  # a resolution for an alert we never saw firing
                continue
            incident = _open_incident(
                session, am, payload, corr.key, corr.rule, corr.reason, now, rules, default_channel
            )
            by_key[corr.key] = incident
            result.opened.add(incident.id or 0)
        elif incident.id not in result.opened:
            # A more urgent alert joining an incident not yet posted pulls its notice forward.
            delay, _ = notify_delay(am.labels, rules)
            if incident.thread_ts is None and _utc(now + delay) < _utc(incident.notify_at):
                incident.notify_at = now + delay
            names = joined.setdefault(incident.id or 0, {})
            names[am.name] = names.get(am.name, 0) + 1
            reasons[incident.id or 0] = f"{corr.rule}: {corr.reason}"
        alert = Alert(
            fingerprint=am.fingerprint,
            starts_at=am.starts_at,
            ends_at=am.ends_at,
            name=am.name,
            status=status,
            severity=severity_of(am.labels),
            labels=am.labels,
            annotations=am.annotations,
            generator_url=am.generator_url,
            group_key=payload.group_key,
            first_seen=now,
            last_seen=now,
            incident_id=incident.id or 0,
        )
        session.add(alert)
        stored_alerts[(am.fingerprint, _utc(am.starts_at))] = alert
        incident.last_alert_at = now
        session.add(incident)
        result.new_alerts += 1
        result.touched.add(incident.id or 0)
    session.add_all(_joined_events(joined, reasons, now))
    session.flush()
    for incident_id in result.touched:
        refresh_incident(session, incident_id, now)
    return result


def refresh_incident(session: Session, incident_id: int, now: datetime) -> Incident:
    """Recompute severity and status from the incident's alerts; bump the header version.

    Aggregates in SQL: a storm incident holds hundreds of alerts."""
    incident = session.get(Incident, incident_id)
    assert incident is not None
    rows = session.exec(
        select(Alert.status, Alert.severity, func.count())
        .where(Alert.incident_id == incident_id)
        .group_by(col(Alert.status), col(Alert.severity))
    ).all()
    firing = [severity for status, severity, _ in rows if status == "firing"]
    if firing:
        incident.severity = worst(firing)
    if rows and not firing and incident.status != "resolved":
        resolve(session, incident, now, by="alertmanager")
    incident.header_version += 1
    session.add(incident)
    return incident


def resolve(session: Session, incident: Incident, now: datetime, by: str) -> None:
    incident.status, incident.open_key, incident.resolved_at = "resolved", None, now
    incident.resolution_posted = False
    session.add(
        IncidentEvent(
            incident_id=incident.id or 0, kind="resolved", at=now, text=f"resolved by {by}"
        )
    )


def _utc(value: datetime) -> datetime:
    """Compare timestamps the same way on SQLite (naive UTC) and PostgreSQL (aware)."""
    return value.replace(tzinfo=None) - (value.utcoffset() or timedelta())


def _naive(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)
