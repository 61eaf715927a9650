"""Slash commands. Each acks at once; anything slow runs after the ack."""

from __future__ import annotations

import time
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk.errors import SlackApiError

from bot.app.runtime import Runtime
from bot.errors import BadInput
from bot.incidents import operations as incident_ops
from bot.incidents.blocks import list_text, timeline_text
from bot.incidents.views import view_of
from bot.slack.blocks import as_dicts, usage_blocks, usage_line, usage_text
from bot.slack.text import Mrkdwn, escape
from bot.store.incidents import Incident
from bot.store.models import aware, utcnow

COMMANDS = ("/ask-ai", "/incident", "/opsbot")
THREAD_WAIT_S = 10.0


def unknown_subcommand(command: str, verb: str) -> str:
    """The reply to `/command <verb>` when no such subcommand exists, as plain text (escaped
    where it is shown): says so, then the usage."""
    return f"unknown subcommand `{verb[:40]}` for {command}. {usage_line(command)}"


def thread_link(rt: Runtime, incident_id: int, timeout: float = THREAD_WAIT_S) -> str:
    """Where a just-declared incident's thread is, as mrkdwn: its channel and a link to it,
    once the notifier has posted the header (waited for up to `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        with rt.deps.db.session() as session:
            incident = session.get(Incident, incident_id)
        if incident is not None and incident.thread_ts:
            break
        if time.monotonic() > deadline:
            channel = rt.notifier.channels.resolve(rt.deps.settings.slack.incidents_channel)
            return f"Its thread opens in <#{channel}> shortly."
        time.sleep(0.2)
    try:
        link = rt.client.chat_getPermalink(channel=incident.channel, message_ts=incident.thread_ts)
    except SlackApiError:
        return f"Its thread is in <#{incident.channel}>."
    return f"Its thread is in <#{incident.channel}>: <{link['permalink']}|open the thread>."


def usage(command: str) -> dict[str, Any]:
    return {
        "response_type": "ephemeral",
        "text": usage_text(command),
        "blocks": as_dicts(usage_blocks(command)),
    }


def incident_command(rt: Runtime, text: str, user: str) -> Mrkdwn:
    """Run `/incident <text>` and return the reply; BadInput for a wrong use."""
    verb, _, rest = text.strip().partition(" ")
    deps = rt.deps
    if verb == "list":
        rows = [
            (i.id or 0, i.severity, i.status, i.title, aware(i.opened_at))
            for i in incident_ops.list_open(deps.db)
        ]
        return list_text(rows, utcnow())
    if verb == "show":
        incident, events = incident_ops.get(deps.db, incident_ops.parse_id(rest))
        with deps.db.session() as session:
            view = view_of(session, incident)
        return timeline_text(view, [(aware(e.at), e.text) for e in events])
    if verb == "declare":
        incident = incident_ops.declare(deps.db, deps.settings.slack.incidents_channel, rest, user)
        rt.notifier.request(incident.id or 0)
        where = thread_link(rt, incident.id or 0)
        return Mrkdwn(f"Declared incident #{incident.id}: {escape(incident.title)}. {where}")
    if verb in ("ack", "resolve"):
        if not rest.strip():
            raise BadInput(f"which incident? /incident {verb} <id>")
        incident_id = incident_ops.parse_id(rest)
        if verb == "ack":
            incident_ops.acknowledge(deps.db, incident_id, user)
        else:
            incident_ops.resolve_by_hand(deps.db, incident_id, user)
        rt.notifier.request(incident_id)
        return Mrkdwn(f"Incident #{incident_id} {'acknowledged' if verb == 'ack' else 'resolved'}.")
    raise BadInput(unknown_subcommand("/incident", verb))


def register(app: App, rt: Runtime) -> None:
    # /ask-ai lives in handlers/ask.py and /opsbot in handlers/opsbot_command.py.
    @app.command("/incident")
    def on_incident(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        text = command.get("text", "").strip()
        if text in ("", "help"):
            ack(**usage("/incident"))
            return
        ack()

        def work() -> None:
            try:
                reply = incident_command(rt, text, command["user_id"])
            except BadInput as exc:
                reply = Mrkdwn(f":warning: {escape(str(exc))}")
            respond(text=reply, response_type="ephemeral")

        rt.deps.run_later("incident-command", work)
