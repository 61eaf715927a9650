"""`/opsbot status`: mode, kill switch, breakers, budgets and pending approvals."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select

from bot.remediation.parts import Parts
from bot.remediation.records import ActionState
from bot.slack.text import code, escape, mention_or_name
from bot.store.actions import ActionRecord
from bot.store.models import aware, utcnow


def status_text(svc: Parts, intake: Sequence[str] = ()) -> str:
    """`/opsbot status`: mode, kill switch, breakers, budgets, pending approvals, and the
    `intake` lines the caller adds (the alert inbox's, see `inbox_status`)."""
    now = utcnow()
    policy = svc.policy
    lines = [f"*opsbot status* · mode *{policy.mode}* (global)"]
    for override in policy.mode_overrides:
        lines.append(f"  · {override.mode} in {', '.join(code(n) for n in override.namespaces)}")
    with svc.db.session() as session:
        control = svc.guards.control(session)
        if control.paused:
            when = (
                f" at {aware(control.changed_at):%Y-%m-%d %H:%M} UTC" if control.changed_at else ""
            )
            reason = f" ({escape(control.reason)})" if control.reason else ""
            by = mention_or_name(control.changed_by or "")
            lines.append(f":octagonal_sign: *Paused* by {by}{when}{reason}")
        else:
            lines.append(":large_green_circle: Running (kill switch off)")
        breakers = svc.guards.all_breakers(session, now)
        lines.append("*Circuit breakers*: " + "; ".join(b.describe() for b in breakers))
        started = select(ActionRecord.namespace).where(col(ActionRecord.started_at).is_not(None))
        namespaces = sorted(set(session.exec(started).all()))
        budgets = [svc.guards.budgets(session, ns, now) for ns in namespaces or [""]]
        overall = budgets[0][1]
        per_ns = ", ".join(
            f"{b[0].scope.removeprefix('namespace ')} {b[0].used}/{b[0].limit}" for b in budgets
        )
        lines.append(f"*Budgets* (last hour): overall {overall.used}/{overall.limit}")
        lines.append(f"  · per namespace: {per_ns}")
        pending = session.exec(
            select(ActionRecord)
            .where(ActionRecord.state == ActionState.PENDING)
            .order_by(col(ActionRecord.created_at))
            .limit(20)
        ).all()
    lines.extend(intake)
    if not pending:
        lines.append("*Pending approvals*: none")
    else:
        lines.append(f"*Pending approvals* ({len(pending)}):")
        for record in pending:
            expires = f", expires {aware(record.expires_at):%H:%M} UTC" if record.expires_at else ""
            incident = f" (incident #{record.incident_id})" if record.incident_id else ""
            lines.append(f"  · `{record.id}` {record.kind} on `{record.target}`{incident}{expires}")
    return "\n".join(lines)
