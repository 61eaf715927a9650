"""Pure Block Kit builders for incident threads: header, triage, resolution.

Every alert-supplied string goes through `bot.slack.text` (escaped, links only through
`link`), and every message fits Slack's limits by construction: long lists end in
"… and N more", long texts are cut at a word.
"""

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
    PlainTextObject,
)

from bot.slack.blocks import ActionId
from bot.slack.kit import TEXT_MAX, context, fields_section, fit, header, section
from bot.slack.text import Mrkdwn, bold, escape, escape_within, link, lit, mention_or_name

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


def action_line_text(action: ActionLine) -> Mrkdwn:
    """`rollback_deployment` on deployment/prod/checkout: done, and the metrics recovered."""
    state = ACTION_STATE_TEXT.get(action.state, action.state.replace("_", " "))
    return Mrkdwn(f"`{escape(action.kind)}` on {escape(action.target)}: {escape(state)}")


@dataclass(frozen=True)
class LinkLine:
    """Another incident of the same problem: how this one stands to it (`likely caused
    by`), its number and title, and its thread's permalink ("" when unknown)."""

    relation: str
    other_id: int
    other_title: str
    other_service: str
    permalink: str
    because: str = ""


def link_line_text(line: LinkLine, *, capital: bool = True) -> Mrkdwn:
    """`Likely caused by #2 payments: Pod is crash looping` with the number and title
    linked to that incident's thread."""
    label = f"#{line.other_id} " + (
        f"{line.other_service}: {line.other_title}"
        if line.other_service and line.other_service.lower() not in line.other_title.lower()
        else line.other_title
    )
    shown = _link(line.permalink, label[: NAME_MAX * 2]) if line.permalink else escape(label)
    relation = line.relation.capitalize() if capital else line.relation
    return Mrkdwn(f"{escape(relation)} {shown}")


def link_message(line: LinkLine) -> list[Block]:
    """The thread message that says this incident is linked to another one, and why."""
    why = f" ({escape(line.because)}, in the traces of the last hour)" if line.because else ""
    return [section(Mrkdwn(f":link: This incident is {link_line_text(line, capital=False)}{why}."))]


def link_message_text(line: LinkLine) -> Mrkdwn:
    """The link message's fallback text."""
    return Mrkdwn(f"This incident is {escape(line.relation)} incident #{line.other_id}.")


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
    links: tuple[LinkLine, ...] = ()


def _ago(then: datetime, now: datetime) -> str:
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h {minutes % 60}m"


NAME_MAX = 120  # an alert name or label value as shown in a list line
SUMMARY_MAX = 300  # a summary as shown in a triage line
LINK_URL_MAX = 2_900  # a link longer than a context element can hold is shown unlinked


def _slack_time(when: datetime) -> Mrkdwn:
    stamp = int(when.timestamp())
    return Mrkdwn(f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{when:%Y-%m-%d %H:%M} UTC>")


def header_text(view: IncidentView) -> Mrkdwn:
    """The header's top-level `text` (notifications, edits): escaped like the blocks, and
    naming the service when the title does not."""
    status = STATUS_TEXT.get(view.status, view.status)
    if view.status != "resolved" and any(a.state in FIXED_STATES for a in view.actions):
        status += ", fixed"
    status = escape(status)
    severity = escape_within(view.severity.upper(), NAME_MAX)
    title = escape_within(view.title, 1000)
    if view.service and view.service.lower() not in view.title.lower():
        # a notification shows only this line: it names what is affected ("Pod is crash
        # looping" alone does not say which)
        title = Mrkdwn(f"{title} · {escape_within(view.service, NAME_MAX)}")
    return Mrkdwn(f"[{status}] #{view.id} {severity}: {title}")


def bounded_lines(lines: list[Mrkdwn], limit: int = TEXT_MAX - 200) -> Mrkdwn:
    """Lines joined within `limit` characters; the rest counted as "… and N more"."""
    kept: list[str] = []
    used = 0
    for n, line in enumerate(lines):
        more = f"\n… and {len(lines) - n} more"
        if used + len(line) + 1 + len(more) > limit:
            kept.append(more.strip("\n"))
            break
        kept.append(line)
        used += len(line) + 1
    return Mrkdwn("\n".join(kept))


def header_blocks(view: IncidentView, now: datetime) -> list[Block]:
    firing = [a for a in view.alerts if a.status == "firing"]
    started = min((a.starts_at for a in view.alerts), default=view.opened_at)
    icon = SEVERITY_ICON.get(view.severity, ":white_circle:")  # kept once resolved
    status = escape(STATUS_TEXT.get(view.status, view.status))
    if view.status == "acknowledged" and view.acknowledged_by:
        status = Mrkdwn(f"{status} by {mention_or_name(view.acknowledged_by)}")
    if view.status == "resolved":
        status = Mrkdwn(f":white_check_mark: {status}")
    fixed = [a for a in view.actions if a.state in FIXED_STATES]
    if fixed and view.status != "resolved":
        kind = escape(fixed[-1].kind)
        status = Mrkdwn(
            f"{status}\n:white_check_mark: fixed by `{kind}`; waiting for the alerts to clear"
        )
    fields = [
        Mrkdwn(f"*Severity*\n{icon} {escape_within(view.severity, NAME_MAX)}"),
        Mrkdwn(f"*Status*\n{status}"),
        Mrkdwn(f"*Service*\n{escape_within(view.service, NAME_MAX) or '—'}"),
        Mrkdwn(f"*Namespace*\n{escape_within(view.namespace, NAME_MAX) or '—'}"),
        Mrkdwn(f"*Firing alerts*\n{len(firing)} of {len(view.alerts)}"),
        Mrkdwn(f"*Started*\n{_slack_time(started)} ({_ago(started, now)} ago)"),
    ]
    blocks: list[Block] = [header(f"#{view.id} {view.title}"), fields_section(fields)]
    if view.actions:
        rows = "\n".join(f"• {action_line_text(a)}" for a in view.actions[-5:])
        blocks.append(section(Mrkdwn(f"*Actions*\n{rows}")))
    if view.links:
        rows = "\n".join(f":link: {link_line_text(line)}" for line in view.links[-5:])
        blocks.append(section(Mrkdwn(f"*Linked incidents*\n{rows}")))
    links = _links(view)
    if links:
        blocks.append(context(*links))
    if view.status != "resolved":
        blocks.append(_buttons(view))
    return blocks


def _link(url: str, label: str) -> Mrkdwn:
    """A link, or the bare label when the URL could not fit a context element."""
    return link(url, label) if len(url) <= LINK_URL_MAX // 2 else escape(label)


def _links(view: IncidentView) -> list[Mrkdwn]:
    """One context element per link (each within Slack's 3,000 characters)."""
    links: list[Mrkdwn] = []
    seen: set[str] = set()
    for alert in view.alerts:
        if alert.generator_url and "graph" not in seen:
            links.append(_link(alert.generator_url, "Prometheus graph"))
            seen.add("graph")
        if alert.runbook_url and "runbook" not in seen:
            links.append(_link(alert.runbook_url, "Runbook"))
            seen.add("runbook")
    if view.external_url:
        names = sorted({a.name for a in view.alerts})
        filt = quote('{alertname=~"' + "|".join(names) + '"}')
        links.append(
            _link(f"{view.external_url.rstrip('/')}/#/alerts?filter={filt}", "Alertmanager")
        )
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
    lines: list[Mrkdwn] = []
    for name, group in sorted(counts.items()):
        first = min(a.starts_at for a in group)
        summary = next((a.summary for a in group if a.summary), "")
        about = f" — {escape_within(summary, SUMMARY_MAX)}" if summary else ""
        lines.append(
            Mrkdwn(
                f"• {bold(name[:NAME_MAX])} x{len(group)} since {_slack_time(first)} "
                f"({_ago(first, now)} ago){about}"
            )
        )
    blocks: list[Block] = [
        section(Mrkdwn("*First triage* (deterministic)\n" + bounded_lines(lines))),
    ]
    if similar:
        rows = [
            Mrkdwn(f"• #{i} {escape_within(title, SUMMARY_MAX)} ({_ago(at, now)} ago)")
            for i, title, at in similar
        ]
        blocks.append(section(Mrkdwn("*Similar recent incidents*\n" + bounded_lines(rows))))
    else:
        blocks.append(context(lit("No similar incident in the last 7 days.")))
    blocks.append(
        ContextBlock(
            elements=[PlainTextObject(text="The full investigation follows in this thread.")]
        )
    )
    return blocks


def resolution_blocks(view: IncidentView, resolved_at: datetime, by: Mrkdwn) -> list[Block]:
    """The note closing the thread; `by` says who or what resolved it (mrkdwn built by the
    caller: a mention is meant). A declared incident may have no alerts: then no alert line
    is written."""
    duration = _ago(view.opened_at, resolved_at)
    text = f":white_check_mark: *Resolved* after {duration} ({by})."
    if view.alerts:
        shown = escape_within(", ".join(sorted({a.name for a in view.alerts})), 2000)
        count = len(view.alerts)
        text += f"\nAlerts: {shown}; {count} alert{'s' if count != 1 else ''} in total."
    return [DividerBlock(), section(Mrkdwn(text))]


def resolution_text(title: str) -> Mrkdwn:
    """The resolution post's top-level `text`."""
    return Mrkdwn(f"Resolved: {escape_within(title, 1000)}")


def list_text(rows: list[tuple[int, str, str, str, datetime]], now: datetime) -> Mrkdwn:
    """`/incident list`: id, severity, status, title, age."""
    if not rows:
        return lit("No open incidents. :tada:")
    lines = [
        Mrkdwn(
            f"• *#{i}* {SEVERITY_ICON.get(sev, ':white_circle:')} "
            f"{escape(STATUS_TEXT.get(st, st))} — "
            f"{escape_within(title, SUMMARY_MAX)} ({_ago(at, now)} ago)"
        )
        for i, sev, st, title, at in rows
    ]
    return Mrkdwn(f"*Open incidents ({len(rows)})*\n" + bounded_lines(lines))


def timeline_text(view: IncidentView, events: list[tuple[datetime, str]]) -> Mrkdwn:
    """`/incident show <id>`: the header facts and the timeline (event texts may quote
    alert names, so they are shown escaped)."""
    lines = [
        Mrkdwn(
            f"*#{view.id} {escape_within(view.title, SUMMARY_MAX)}* — "
            f"{escape(STATUS_TEXT.get(view.status, view.status))}, "
            f"severity {escape_within(view.severity, NAME_MAX)}, "
            f"service {escape_within(view.service, NAME_MAX) or '—'}"
        )
    ]
    lines += [
        Mrkdwn(f"`{at:%Y-%m-%d %H:%M:%S}` {escape_within(text, SUMMARY_MAX)}")
        for at, text in events[-20:]
    ]
    return fit(bounded_lines(lines), TEXT_MAX)
