"""People's hands on incidents from Slack: `/incident list|show|declare|ack|resolve` and the
header's buttons (Acknowledge, Investigate, Silence 1h, Resolve).

Each reply is text for the person who asked (escaped where it shows what others wrote);
each change asks the notifier to bring the incident's thread in step.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cache import Cache
from bot.errors import BadInput, DependencyDown
from bot.incidents import operations
from bot.incidents.blocks import list_text, timeline_text
from bot.incidents.views import view_of
from bot.slack.blocks import unknown_subcommand
from bot.slack.text import Mrkdwn, escape
from bot.store.db import Database
from bot.store.incidents import Incident
from bot.store.models import aware, utcnow

THREAD_WAIT_S = 10.0
INVESTIGATE_DEBOUNCE_S = 60


class IncidentDesk:
    """Runs people's incident commands and clicks; built by the composition root with the
    store, Slack, the incidents channel, Alertmanager's API (for silences), the cache (to
    debounce Investigate), the notifier's `request` and `resolve_channel`, and
    `investigate(incident_id)`, which starts a new investigation in the worker pool."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        cache: Cache,
        *,
        incidents_channel: str,
        alertmanager_url: str | None,
        request: Callable[[int], None],
        resolve_channel: Callable[[str], str],
        investigate: Callable[[int], object],
    ) -> None:
        self.db = db
        self.client = client
        self.cache = cache
        self.incidents_channel = incidents_channel
        self.alertmanager_url = alertmanager_url
        self.request = request
        self.resolve_channel = resolve_channel
        self.investigate = investigate

    def command(self, text: str, user: str) -> Mrkdwn:
        """The reply to `/incident <text>`; a wrong use is answered with a warning."""
        try:
            return self._command(text, user)
        except BadInput as exc:
            return Mrkdwn(f":warning: {escape(str(exc))}")

    def click(self, verb: str, value: str, user: str) -> str:
        """The reply to a header button (`verb`: ack, resolve, silence, investigate) on the
        incident whose id is the button's `value`."""
        try:
            incident_id = operations.parse_id(value)
            if verb == "ack":
                return self._acknowledge(incident_id, user)
            if verb == "resolve":
                return self._resolve(incident_id, user)
            if verb == "silence":
                silence_id = operations.silence(self.db, self.alertmanager_url, incident_id, user)
                return f"Silenced incident #{incident_id} for 1 hour (silence {silence_id})."
            if verb == "investigate":
                return self._investigate(incident_id, user)
            raise BadInput(f"unknown incident button '{verb}'")
        except (BadInput, DependencyDown) as exc:
            return f":warning: {escape(str(exc))}"

    def _command(self, text: str, user: str) -> Mrkdwn:
        verb, _, rest = text.strip().partition(" ")
        if verb == "list":
            rows = [
                (i.id or 0, i.severity, i.status, i.title, aware(i.opened_at))
                for i in operations.list_open(self.db)
            ]
            return list_text(rows, utcnow())
        if verb == "show":
            incident, events = operations.get(self.db, operations.parse_id(rest))
            with self.db.session() as session:
                view = view_of(session, incident)
            return timeline_text(view, [(aware(e.at), e.text) for e in events])
        if verb == "declare":
            incident = operations.declare(self.db, self.incidents_channel, rest, user)
            self.request(incident.id or 0)
            where = self.thread_link(incident.id or 0)
            return Mrkdwn(f"Declared incident #{incident.id}: {escape(incident.title)}. {where}")
        if verb in ("ack", "resolve"):
            if not rest.strip():
                raise BadInput(f"which incident? /incident {verb} <id>")
            incident_id = operations.parse_id(rest)
            if verb == "ack":
                self._acknowledge(incident_id, user)
            else:
                self._resolve(incident_id, user)
            done = "acknowledged" if verb == "ack" else "resolved"
            return Mrkdwn(f"Incident #{incident_id} {done}.")
        raise BadInput(unknown_subcommand("/incident", verb))

    def thread_link(self, incident_id: int, timeout: float = THREAD_WAIT_S) -> str:
        """Where a just-declared incident's thread is, as mrkdwn: its channel and a link to
        it, once the notifier has posted the header (waited for up to `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.db.session() as session:
                incident = session.get(Incident, incident_id)
            if incident is not None and incident.thread_ts:
                break
            if time.monotonic() > deadline:
                channel = self.resolve_channel(self.incidents_channel)
                return f"Its thread opens in <#{channel}> shortly."
            time.sleep(0.2)
        try:
            link = self.client.chat_getPermalink(
                channel=incident.channel, message_ts=incident.thread_ts
            )
        except SlackApiError:
            return f"Its thread is in <#{incident.channel}>."
        return f"Its thread is in <#{incident.channel}>: <{link['permalink']}|open the thread>."

    def _acknowledge(self, incident_id: int, user: str) -> str:
        operations.acknowledge(self.db, incident_id, user)
        self.request(incident_id)
        return f"You acknowledged incident #{incident_id}."

    def _resolve(self, incident_id: int, user: str) -> str:
        operations.resolve_by_hand(self.db, incident_id, user)
        self.request(incident_id)
        return f"You resolved incident #{incident_id}."

    def _investigate(self, incident_id: int, user: str) -> str:
        operations.get(self.db, incident_id)
        # One re-run per incident a minute, however many people click.
        if not self.cache.add(
            f"investigate:{incident_id}", user.encode(), ttl=INVESTIGATE_DEBOUNCE_S
        ):
            return f"An investigation of #{incident_id} is already running; see its thread."
        self.investigate(incident_id)
        return f"Investigating #{incident_id}; the finding will be posted in its thread."
