"""Pure Block Kit builders for incident threads: header, triage, resolution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks import ActionId, escape

SEVERITY_ICON = {
    "critical": ":red_circle:",
    "page": ":red_circle:",
    "error": ":large_orange_circle:",
    "high": ":large_orange_circle:",
    "warning": ":large_yellow_circle:",
    "info": ":large_blue_circle:",
}
STATUS_TEXT = {"open": "Firing", "acknowledged": "Acknowledged", "resolved": "Resolved"}


@dataclass(frozen=True)
class AlertLine:
    name: str
    status: str
    summary: str
    generator_url: str
    runbook_url: str
    starts_at: datetime


@dataclass(frozen=True)
class ActionLine:
    """One remediation action of the incident, as its header lists it."""

    kind: str
    target: str
    state: str


FIXED_STATES = ("succeeded",)
ACTION_STATE_TEXT = {
    "pending": "waiting for approval",
    "approved": "approved",
    "executing": "running",
    "validating": "checking that it helped",
    "succeeded": "done, and the metrics recovered",
    "not_recovered": "done, but the metrics did not recover",
    "rolled_back": "undone",
    "undone": "undone",
    "failed": "failed",
    "denied": "denied",
    "expired": "expired unapproved",
    "refused": "refused by the policy",
    "blocked": "blocked",
    "shadowed": "logged only (shadow mode)",
}


def action_line_text(action: ActionLine) -> str:
    """`rollback_deployment` on deployment/prod/checkout: done, and the metrics recovered."""
    state = ACTION_STATE_TEXT.get(action.state, action.state.replace("_", " "))
    return f"`{escape(action.kind)}` on {escape(action.target)}: {state}"


@dataclass(frozen=True)
class IncidentView:
    """What the header shows; built from the store, rendered without I/O."""

    id: int
    title: str
    severity: str
    service: str
    namespace: str
    status: str
    opened_at: datetime
    acknowledged_by: str | None
    external_url: str
    alerts: tuple[AlertLine, ...]
    actions: tuple[ActionLine, ...] = ()


def _ago(then: datetime, now: datetime) -> str:
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h {minutes % 60}m"


def _slack_time(when: datetime) -> str:
    stamp = int(when.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{when:%Y-%m-%d %H:%M} UTC>"


def header_text(view: IncidentView) -> str:
    status = STATUS_TEXT.get(view.status, view.status)
    if view.status != "resolved" and any(a.state in FIXED_STATES for a in view.actions):
        status += ", fixed"
    return f"[{status}] #{view.id} {view.severity.upper()}: {view.title}"


def header_blocks(view: IncidentView, now: datetime) -> list[Block]:
    firing = [a for a in view.alerts if a.status == "firing"]
    started = min((a.starts_at for a in view.alerts), default=view.opened_at)
    icon = (
        ":white_check_mark:"
        if view.status == "resolved"
        else SEVERITY_ICON.get(view.severity, ":white_circle:")
    )
    status = STATUS_TEXT.get(view.status, view.status)
    if view.status == "acknowledged" and view.acknowledged_by:
        status += f" by <@{view.acknowledged_by}>"
    fixed = [a for a in view.actions if a.state in FIXED_STATES]
    if fixed and view.status != "resolved":
        kind = escape(fixed[-1].kind)
        status += f"\n:white_check_mark: fixed by `{kind}`; waiting for the alerts to clear"
    fields = [
        MarkdownTextObject(text=f"*Severity*\n{icon} {view.severity}"),
        MarkdownTextObject(text=f"*Status*\n{status}"),
        MarkdownTextObject(text=f"*Service*\n{escape(view.service) or '—'}"),
        MarkdownTextObject(text=f"*Namespace*\n{escape(view.namespace) or '—'}"),
        MarkdownTextObject(text=f"*Firing alerts*\n{len(firing)} of {len(view.alerts)}"),
        MarkdownTextObject(text=f"*Started*\n{_slack_time(started)} ({_ago(started, now)} ago)"),
    ]
    blocks: list[Block] = [
        HeaderBlock(text=f"#{view.id} {view.title}"[:150]),
        SectionBlock(fields=fields),
    ]
    if view.actions:
        rows = "\n".join(f"• {action_line_text(a)}" for a in view.actions[-5:])
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Actions*\n{rows}"[:3000])))
    links = _links(view)
    if links:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join(links))]))
    if view.status != "resolved":
        blocks.append(_buttons(view))
    return blocks


def _links(view: IncidentView) -> list[str]:
    links: list[str] = []
    seen: set[str] = set()
    for alert in view.alerts:
        if alert.generator_url and "graph" not in seen:
            links.append(f"<{alert.generator_url}|Prometheus graph>")
            seen.add("graph")
        if alert.runbook_url and "runbook" not in seen:
            links.append(f"<{alert.runbook_url}|Runbook>")
            seen.add("runbook")
    if view.external_url:
        names = sorted({a.name for a in view.alerts})
        filt = quote('{alertname=~"' + "|".join(names) + '"}')
        links.append(f"<{view.external_url.rstrip('/')}/#/alerts?filter={filt}|Alertmanager>")
    return links


def _buttons(view: IncidentView) -> ActionsBlock:
    value = str(view.id)
    elements = []
    if view.status == "open":
        elements.append(
            ButtonElement(
                text="Acknowledge", action_id=ActionId.INCIDENT_ACK, value=value, style="primary"
            )
        )
    elements += [
        ButtonElement(text="Investigate", action_id=ActionId.INCIDENT_INVESTIGATE, value=value),
        ButtonElement(
            text="Silence 1h",
            action_id=ActionId.INCIDENT_SILENCE,
            value=value,
            confirm=ConfirmObject(
                title="Silence for 1 hour?",
                text="Creates an Alertmanager silence for this incident's alerts.",
                confirm="Silence",
                deny="Cancel",
            ),
        ),
        ButtonElement(
            text="Resolve",
            action_id=ActionId.INCIDENT_RESOLVE,
            value=value,
            style="danger",
            confirm=ConfirmObject(
                title="Resolve this incident?",
                text="Marks the incident resolved now.",
                confirm="Resolve",
                deny="Cancel",
            ),
        ),
    ]
    return ActionsBlock(block_id=f"incident:{view.id}", elements=elements)


def triage_blocks(
    view: IncidentView, similar: list[tuple[int, str, datetime]], now: datetime
) -> list[Block]:
    """The deterministic first look: what fired, since when, similar past incidents."""
    counts: dict[str, list[AlertLine]] = {}
    for alert in view.alerts:
        counts.setdefault(alert.name, []).append(alert)
    lines = []
    for name, group in sorted(counts.items()):
        first = min(a.starts_at for a in group)
        summary = next((a.summary for a in group if a.summary), "")
        lines.append(
            f"• *{name}* x{len(group)} since {_slack_time(first)} "
            f"({_ago(first, now)} ago){' — ' + escape(summary) if summary else ''}"
        )
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text="*First triage* (deterministic)\n" + "\n".join(lines))
        ),
    ]
    if similar:
        rows = "\n".join(
            f"• #{i} {escape(title)} ({_ago(at, now)} ago)" for i, title, at in similar
        )
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text="*Similar recent incidents*\n" + rows))
        )
    else:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text="No similar incident in the last 7 days.")]
            )
        )
    blocks.append(
        ContextBlock(
            elements=[PlainTextObject(text="The full investigation follows in this thread.")]
        )
    )
    return blocks


def resolution_blocks(view: IncidentView, resolved_at: datetime, by: str) -> list[Block]:
    duration = _ago(view.opened_at, resolved_at)
    names = ", ".join(sorted({a.name for a in view.alerts}))
    return [
        DividerBlock(),
        SectionBlock(
            text=MarkdownTextObject(
                text=f":white_check_mark: *Resolved* after {duration} ({by}).\n"
                f"Alerts: {names}; {len(view.alerts)} alert(s) in total."
            )
        ),
    ]


def list_text(rows: list[tuple[int, str, str, str, datetime]], now: datetime) -> str:
    """`/incident list`: id, severity, status, title, age."""
    if not rows:
        return "No open incidents. :tada:"
    lines = [
        f"• *#{i}* {SEVERITY_ICON.get(sev, ':white_circle:')} {STATUS_TEXT.get(st, st)} — "
        f"{escape(title)} ({_ago(at, now)} ago)"
        for i, sev, st, title, at in rows
    ]
    return f"*Open incidents ({len(rows)})*\n" + "\n".join(lines)


def timeline_text(view: IncidentView, events: list[tuple[datetime, str]]) -> str:
    """`/incident show <id>`: the header facts and the timeline."""
    lines = [
        f"*#{view.id} {escape(view.title)}* — {STATUS_TEXT.get(view.status, view.status)}, "
        f"severity {view.severity}, service {view.service or '—'}"
    ]
    lines += [f"`{at:%Y-%m-%d %H:%M:%S}` {text}" for at, text in events[-20:]]
    return "\n".join(lines)
