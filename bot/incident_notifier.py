"""Keeps each incident's Slack thread in step with the store.

`sync` is idempotent and may run on any replica at any time: it posts the header once
(guarded by a database lease and `thread_ts`), edits it only when the stored header
version moved (so bursts of alerts coalesce into one edit), posts the first triage once
and the resolution note once. Rate limits are absorbed by the WebClient's retry handler.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import and_, or_
from sqlmodel import col, select

from bot import leases
from bot.deps import Deps
from bot.incident_blocks import (
    IncidentView,
    header_blocks,
    header_text,
    resolution_blocks,
    triage_blocks,
)
from bot.incident_views import aware, similar_incidents, view_of
from bot.logs import get_logger
from bot.slack_channels import ChannelDirectory
from bot.store.incidents import Incident
from bot.store.models import utcnow

log = get_logger("opsbot.incidents.slack")
LEASE_TTL = 20.0  # a crashed holder blocks an incident's thread this long at most
_SLUG = re.compile(r"[^a-z0-9-]+")


class IncidentNotifier:
    def __init__(self, deps: Deps, client: WebClient) -> None:
        self.deps = deps
        self.client = client
        self.channels = ChannelDirectory(client)
        self._queued: set[int] = set()
        self._lock = threading.Lock()

    def request(self, incident_id: int) -> None:
        """Ask for a sync soon; requests for an incident already queued coalesce."""
        with self._lock:
            if incident_id in self._queued:
                return
            self._queued.add(incident_id)
        self.deps.run_later("incident-sync", self._run, incident_id)

    def _run(self, incident_id: int) -> None:
        with self._lock:
            self._queued.discard(incident_id)
        if not self.sync(incident_id):
            timer = threading.Timer(1.0, self.request, args=(incident_id,))
            timer.daemon = True
            timer.start()

    def sync(self, incident_id: int) -> bool:
        """Bring the thread up to date; False when another worker holds the incident."""
        with leases.held(self.deps.db, f"incident-sync:{incident_id}", LEASE_TTL) as token:
            if token is None:
                return False
            name = f"incident-sync:{incident_id}"
            for _ in range(5):  # loop while the store keeps moving under us
                if not self._one_pass(incident_id):
                    break
                leases.acquire(self.deps.db, name, LEASE_TTL, token)  # extend while working
        return True

    def _one_pass(self, incident_id: int) -> bool:
        now = utcnow()
        with self.deps.db.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None or incident.muted_by or aware(incident.notify_at) > now:
                return False
            view = view_of(session, incident)
            similar = similar_incidents(session, incident, now)
        if incident.thread_ts is None:
            if incident.status == "resolved":
                return False  # resolved before it was ever worth posting
            self._post_header(incident, view, now, similar)
            return True
        if incident.posted_version < incident.header_version:
            self.client.chat_update(
                channel=incident.channel,
                ts=incident.thread_ts,
                text=header_text(view),
                blocks=header_blocks(view, now),
            )
            self._save(incident_id, posted_version=incident.header_version)
            return True
        if incident.status == "resolved" and not incident.resolution_posted:
            self.client.chat_postMessage(
                channel=incident.channel,
                thread_ts=incident.thread_ts,
                text=f"Resolved: {incident.title}",
                blocks=resolution_blocks(
                    view, aware(incident.resolved_at or now), "all alerts resolved"
                ),
            )
            self._save(incident_id, resolution_posted=True)
            return True
        return False

    def _post_header(
        self,
        incident: Incident,
        view: IncidentView,
        now: datetime,
        similar: list[tuple[int, str, datetime]],
    ) -> None:
        channel = self._channel_for(incident)
        posted = self.client.chat_postMessage(
            channel=channel,
            text=header_text(view),
            blocks=header_blocks(view, now),
            unfurl_links=False,
        )
        ts = str(posted["ts"])
        self._save(
            incident.id or 0, channel=channel, thread_ts=ts, posted_version=incident.header_version
        )
        self.client.chat_postMessage(
            channel=channel,
            thread_ts=ts,
            text=f"First triage of incident #{view.id}",
            blocks=triage_blocks(view, similar, now),
        )
        self._save(incident.id or 0, triage_posted=True)
        log.info("incident thread opened", incident=incident.id, channel=channel, ts=ts)

    def _channel_for(self, incident: Incident) -> str:
        if not incident.dedicated_channel:
            return self.channels.resolve(
                incident.channel or self.deps.settings.slack.incidents_channel
            )
        slug = _SLUG.sub("-", f"inc-{incident.id}-{incident.service or incident.title}".lower())
        channel = self.channels.create(slug.strip("-")[:80])
        users = self.channels.expand_users(incident.invite)
        if users:
            try:
                self.client.conversations_invite(channel=channel, users=",".join(users))
            except SlackApiError as exc:
                log.warning("invite failed", channel=channel, error=exc.response.get("error"))
        return channel

    def _save(self, incident_id: int, **values: object) -> None:
        with self.deps.db.session() as session:
            incident = session.get(Incident, incident_id)
            assert incident is not None
            for key, value in values.items():
                setattr(incident, key, value)
            session.add(incident)

    def catch_up(self) -> int:
        """Request a sync of every incident whose thread is behind the store."""
        now = utcnow()
        with self.deps.db.session() as session:
            unposted = and_(
                col(Incident.thread_ts).is_(None),
                col(Incident.status) != "resolved",
                col(Incident.muted_by).is_(None),
                col(Incident.notify_at) <= now,
            )
            behind = and_(
                col(Incident.thread_ts).is_not(None),
                or_(
                    col(Incident.posted_version) < col(Incident.header_version),
                    col(Incident.resolution_posted).is_(False),
                ),
            )
            ids = session.exec(select(Incident.id).where(or_(unposted, behind))).all()
        for incident_id in ids:
            if incident_id is not None:
                self.request(incident_id)
        return len(ids)
