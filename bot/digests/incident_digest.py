"""Daily incident digest: the 24 hours before the run, with a 14-day trend.

* opened / resolved / still open, MTTR (mean and median open-to-resolved time);
* auto-resolved share: resolved incidents no human touched (resolved by Alertmanager, never
  acknowledged, no human-approved action), and how many of those followed an automatic
  opsbot action;
* noisiest alerts, and the alert-to-incident noise reduction (alert instances received
  against the incidents they were grouped into);
* pending approvals (actions waiting for a human).
Charts: incidents opened/resolved per day, MTTR per day.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from bot.digests import charts
from bot.digests.output import (
    Chart,
    DigestOutput,
    DigestRequest,
    Permalink,
    bullet_list,
    context,
    divider,
    duration_text,
    facts,
    header,
    no_links,
    period_text,
    plural,
    section,
    utc,
)
from bot.incidents.blocks import ACTION_STATE_TEXT, STATUS_TEXT
from bot.slack.text import Mrkdwn, code, escape
from bot.slack.text import link as slack_link
from bot.store.actions import ActionRecord, Escalation
from bot.store.db import Database
from bot.store.incidents import Alert, Incident, IncidentEvent
from bot.store.models import aware

TREND_DAYS = 14
MAX_LISTED = 10


@dataclass(frozen=True)
class IncidentRow:
    """One incident of the window as the digest lists it."""

    id: int
    title: str
    service: str
    severity: str
    status: str
    opened_at: datetime
    resolved_at: datetime | None
    actions: tuple[tuple[str, str, str], ...]  # kind, target, state
    paged: bool
    channel: str
    thread_ts: str | None


@dataclass(frozen=True)
class PendingRow:
    """One action waiting for a human."""

    id: str
    kind: str
    target: str
    since: datetime
    expires_at: datetime | None
    channel: str | None
    card_ts: str | None


@dataclass
class IncidentStats:
    start: datetime
    end: datetime
    opened: int = 0
    resolved: int = 0
    still_open: int = 0
    resolve_times: list[timedelta] = field(default_factory=list)
    auto_resolved: int = 0
    after_auto_action: int = 0
    alerts: int = 0
    alert_incidents: int = 0
    noisiest: list[tuple[str, int, int]] = field(default_factory=list)  # name, alerts, sends
    pending: list[PendingRow] = field(default_factory=list)
    listed: list[IncidentRow] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    opened_per_day: list[int] = field(default_factory=list)
    resolved_per_day: list[int] = field(default_factory=list)
    mttr_per_day: list[float | None] = field(default_factory=list)  # minutes

    @property
    def mttr(self) -> timedelta | None:
        if not self.resolve_times:
            return None
        return sum(self.resolve_times, timedelta()) / len(self.resolve_times)

    @property
    def median_ttr(self) -> timedelta | None:
        if not self.resolve_times:
            return None
        return timedelta(seconds=statistics.median(t.total_seconds() for t in self.resolve_times))

    @property
    def noise_reduction(self) -> float | None:
        return 1 - self.alert_incidents / self.alerts if self.alerts else None


def _human_touched(session: Session, incident: Incident) -> bool:
    if incident.acknowledged_by:
        return True
    resolved_by = session.exec(
        select(IncidentEvent.text)
        .where(IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "resolved")
        .order_by(col(IncidentEvent.at).desc())
    ).first()
    if resolved_by is not None and "<@" in resolved_by:
        return True
    approved = session.exec(
        select(ActionRecord.decided_by).where(
            ActionRecord.incident_id == incident.id, col(ActionRecord.decided_by).is_not(None)
        )
    ).all()
    return any(by and not by.startswith("policy") for by in approved)


def _auto_action(session: Session, incident_id: int) -> bool:
    return (
        session.exec(
            select(ActionRecord.id).where(
                ActionRecord.incident_id == incident_id, ActionRecord.state == "succeeded"
            )
        ).first()
        is not None
    )


def gather(session: Session, now: datetime, zone: str) -> IncidentStats:
    end = utc(now)
    stats = IncidentStats(start=end - timedelta(days=1), end=end)
    local = ZoneInfo(zone)
    first_day = (end.astimezone(local) - timedelta(days=TREND_DAYS - 1)).date()
    trend_start = datetime.combine(first_day, datetime.min.time(), local).astimezone(end.tzinfo)
    incidents = session.exec(
        select(Incident).where(
            (col(Incident.opened_at) >= trend_start)
            | (col(Incident.resolved_at) >= trend_start)
            | (Incident.status != "resolved")
        )
    ).all()
    opened_day: Counter[str] = Counter()
    resolved_day: Counter[str] = Counter()
    ttr_day: dict[str, list[float]] = defaultdict(list)
    for incident in incidents:
        opened = aware(incident.opened_at)
        if stats.start <= opened < end:
            stats.opened += 1
        if opened < end and (incident.resolved_at is None or aware(incident.resolved_at) >= end):
            stats.still_open += 1
        opened_day[f"{opened.astimezone(local):%m-%d}"] += opened >= trend_start
        if incident.resolved_at is None:
            continue
        resolved = aware(incident.resolved_at)
        day = f"{resolved.astimezone(local):%m-%d}"
        if trend_start <= resolved < end:
            resolved_day[day] += 1
            ttr_day[day].append((resolved - opened).total_seconds() / 60)
        if stats.start <= resolved < end:
            stats.resolved += 1
            stats.resolve_times.append(resolved - opened)
            if not _human_touched(session, incident):
                stats.auto_resolved += 1
                stats.after_auto_action += _auto_action(session, incident.id or 0)
    for offset in range(TREND_DAYS):
        day = f"{first_day + timedelta(days=offset):%m-%d}"
        stats.days.append(day)
        stats.opened_per_day.append(opened_day[day])
        stats.resolved_per_day.append(resolved_day[day])
        times = ttr_day.get(day)
        stats.mttr_per_day.append(sum(times) / len(times) if times else None)
    rows = session.exec(
        select(
            Alert.name,
            func.count(),
            func.sum(Alert.receive_count),
            func.count(func.distinct(Alert.incident_id)),
        )
        .where(col(Alert.first_seen) >= stats.start, col(Alert.first_seen) < end)
        .group_by(col(Alert.name))
    ).all()
    stats.alerts = sum(int(r[1]) for r in rows)
    stats.alert_incidents = int(
        session.exec(
            select(func.count(func.distinct(Alert.incident_id))).where(
                col(Alert.first_seen) >= stats.start, col(Alert.first_seen) < end
            )
        ).one()
    )
    stats.noisiest = sorted(
        ((str(r[0]), int(r[1]), int(r[2] or 0)) for r in rows), key=lambda r: (-r[2], r[0])
    )[:5]
    pending = session.exec(
        select(ActionRecord)
        .where(ActionRecord.state == "pending")
        .order_by(col(ActionRecord.created_at))
    ).all()
    stats.pending = [
        PendingRow(
            id=a.id,
            kind=a.kind,
            target=a.target,
            since=aware(a.created_at),
            expires_at=aware(a.expires_at) if a.expires_at else None,
            channel=a.card_channel,
            card_ts=a.card_ts,
        )
        for a in pending
    ]
    stats.listed = _listed(session, incidents, stats.start, end)
    return stats


def _listed(
    session: Session, incidents: Sequence[Incident], start: datetime, end: datetime
) -> list[IncidentRow]:
    """The incidents opened, resolved or still open in the window: open ones first, then the
    most severe, then the newest."""
    chosen = [
        i
        for i in incidents
        if aware(i.opened_at) < end and (i.resolved_at is None or aware(i.resolved_at) >= start)
    ]
    rows: list[IncidentRow] = []
    for incident in chosen:
        actions = session.exec(
            select(ActionRecord)
            .where(ActionRecord.incident_id == incident.id)
            .order_by(col(ActionRecord.created_at))
        ).all()
        paged = session.exec(
            select(Escalation.id).where(
                Escalation.incident_id == incident.id, col(Escalation.paged).is_(True)
            )
        ).first()
        rows.append(
            IncidentRow(
                id=incident.id or 0,
                title=incident.title,
                service=incident.service,
                severity=incident.severity,
                status=incident.status,
                opened_at=aware(incident.opened_at),
                resolved_at=aware(incident.resolved_at) if incident.resolved_at else None,
                actions=tuple((a.kind, a.target, a.state) for a in actions),
                paged=paged is not None,
                channel=incident.channel,
                thread_ts=incident.thread_ts,
            )
        )
    rank = {"critical": 0, "warning": 1, "info": 2}
    rows.sort(
        key=lambda r: (r.status == "resolved", rank.get(r.severity, 3), -r.opened_at.timestamp())
    )
    return rows


def incident_line(row: IncidentRow, now: datetime, permalink: Permalink) -> Mrkdwn:
    """`#3 checkout is failing 12%` · checkout · critical · resolved after 42 min ·
    rollback_deployment: done, and the metrics recovered · paged · <thread>"""
    ended = row.resolved_at or now
    status = STATUS_TEXT.get(row.status, row.status)
    took = duration_text(ended - row.opened_at)
    state = f"{status.lower()} after {took}" if row.resolved_at else f"{status.lower()} for {took}"
    parts = [
        f"*#{row.id} {escape(row.title[:120])}*",
        escape(row.service) or "no service",
        escape(row.severity),
        state,
    ]
    done = [
        f"`{escape(kind)}` {ACTION_STATE_TEXT.get(st, st.replace('_', ' '))}"
        for kind, _target, st in row.actions
    ]
    parts.append("; ".join(done) if done else "no action")
    if row.paged:
        parts.append("on-call paged")
    link = permalink(row.channel, row.thread_ts) if row.thread_ts else None
    if link:
        parts.append(slack_link(link, "thread"))
    return Mrkdwn(" · ".join(parts))


def pending_line(row: PendingRow, permalink: Permalink) -> Mrkdwn:
    """`rollback_deployment` on deployment/prod/checkout · expires 02:00 UTC · <card>"""
    expiry = f"expires {row.expires_at:%H:%M} UTC" if row.expires_at else "no expiry"
    line = (
        f"`{escape(row.kind)}` on `{escape(row.target)}` · waiting since "
        f"{row.since:%H:%M} UTC · {expiry}"
    )
    link = permalink(row.channel, row.card_ts) if row.channel and row.card_ts else None
    return Mrkdwn(line + (f" · {slack_link(link, 'card')}" if link else ""))


def blocks_for(stats: IncidentStats, zone: str, permalink: Permalink = no_links) -> DigestOutput:
    """The digest message: pure, from the gathered numbers."""
    share = stats.auto_resolved / stats.resolved if stats.resolved else None
    reduction = stats.noise_reduction
    noisy = [
        Mrkdwn(f"{code(name)}: {plural(alerts, 'alert')}, {plural(sends, 'notification')}")
        for name, alerts, sends in stats.noisiest
    ]
    waiting = [pending_line(row, permalink) for row in stats.pending]
    listed = [incident_line(row, stats.end, permalink) for row in stats.listed]
    text = (
        f"Incident digest: {stats.opened} opened, {stats.resolved} resolved, "
        f"MTTR {duration_text(stats.mttr)}, {plural(len(stats.pending), 'approval')} pending"
    )
    blocks = [
        header("Daily incident digest"),
        context(escape(period_text(stats.start, stats.end, zone))),
        facts(
            [
                ("Opened", str(stats.opened)),
                ("Resolved", str(stats.resolved)),
                ("Still open", str(stats.still_open)),
                (
                    "MTTR (mean / median)",
                    (f"{duration_text(stats.mttr)} / {duration_text(stats.median_ttr)}"),
                ),
                (
                    "Auto-resolved",
                    "-"
                    if share is None
                    else (
                        f"{share:.0%} ({stats.auto_resolved} of {stats.resolved}; "
                        f"{stats.after_auto_action} after an opsbot action)"
                    ),
                ),
                (
                    "Noise reduction",
                    "-"
                    if reduction is None
                    else (
                        f"{reduction:.0%}: {plural(stats.alerts, 'alert')} → "
                        f"{plural(stats.alert_incidents, 'incident')}"
                    ),
                ),
            ]
        ),
        divider(),
        section(
            Mrkdwn(
                f"*Incidents ({len(listed)})*\n"
                + bullet_list(listed, "no incidents in this window", limit=MAX_LISTED)
            )
        ),
        section(Mrkdwn("*Noisiest alerts*\n" + bullet_list(noisy, "no alerts"))),
        section(
            Mrkdwn(
                f"*Pending approvals ({len(stats.pending)})*\n"
                + bullet_list(waiting, "nothing waiting for approval", limit=5)
            )
        ),
    ]
    return DigestOutput(text=text, blocks=blocks)


def build(db: Database, zone: str, request: DigestRequest) -> DigestOutput:
    """The digest of the 24 hours before `request.now` from the store, days cut in `zone`,
    each incident linked to its thread through `request.permalink`."""
    with db.session() as session:
        stats = gather(session, request.now, zone)
    output = blocks_for(stats, zone, request.permalink)
    output.charts = []
    if any(stats.opened_per_day) or any(stats.resolved_per_day):
        output.charts.append(incidents_chart(stats, zone))
    if any(m is not None for m in stats.mttr_per_day):
        output.charts.append(mttr_chart(stats))
    return output


def incidents_chart(stats: IncidentStats, zone: str) -> Chart:
    """Opened and resolved per day (drawn only when there were any)."""
    return Chart(
        "incidents-per-day.png",
        "Incidents per day",
        charts.bar_chart(
            stats.days,
            {"opened": stats.opened_per_day, "resolved": stats.resolved_per_day},
            title=f"Incidents per day (last {TREND_DAYS} days, {zone})",
            ylabel="incidents",
        ),
        "Bar chart of incidents opened and resolved per day",
    )


def mttr_chart(stats: IncidentStats) -> Chart:
    """Mean time to resolve per day (drawn only when something was resolved)."""
    return Chart(
        "mttr-trend.png",
        "MTTR trend",
        charts.line_chart(
            stats.days,
            stats.mttr_per_day,
            title="Mean time to resolve, by day of resolution",
            ylabel="minutes",
        ),
        "Line chart of the mean time to resolve per day",
    )
