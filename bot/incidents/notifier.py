"""Keeps each incident's Slack thread in step with the store.

Each step (`_one_step`) is idempotent and may run on any replica at any time: it posts the
header once (guarded by a database lease and `thread_ts`), edits it only when the stored header
version moved (so bursts of alerts coalesce into one edit), posts the first triage once
and the resolution note once. Edits (chat.update) are paced apart from posts, in one
bucket for the workspace (bot.slack.outbox); a step does only the kind of write its slot
was taken for, else it writes nothing and is queued again in the right lane. Rate limits
that slip through are absorbed by the WebClient's retry handler; each post carries a
stable key so a post whose answer was lost is found, not repeated (bot.slack.posting).
A thread whose Slack message is gone (deleted, its channel gone, a workspace that was
reset) is re-posted once as a new header and the incident continues there.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime
from enum import IntEnum
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackObjectFormationError
from sqlalchemy import and_, or_
from sqlmodel import col, select

from bot import leases
from bot.incidents.blocks import (
    IncidentView,
    header_blocks,
    header_text,
    resolution_blocks,
    resolution_text,
    triage_blocks,
)
from bot.incidents.views import similar_incidents, view_of
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.settings import CacheSettings, SlackSettings
from bot.slack.channels import ChannelDirectory, ChannelUnavailable
from bot.slack.outbox import Outbox, Pace
from bot.slack.pacing import SharedPacing
from bot.slack.posting import post_key
from bot.slack.text import Mrkdwn, mention_or_name
from bot.slack.writer import ANSWER_PRIORITY, LANE_RATES
from bot.store.db import Database
from bot.store.incidents import Incident, IncidentEvent
from bot.store.models import aware, utcnow

log = get_logger("opsbot.incidents.slack")
# Slack's answers that no retry can change: the message itself is wrong.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "invalid_arguments",
        "invalid_metadata_format",
        "metadata_too_large",
    }
)


def _permanent(exc: Exception) -> str | None:
    """The reason when `exc` is a refusal no retry can change, else None."""
    if isinstance(exc, SlackObjectFormationError):
        return f"SlackObjectFormationError: {str(exc)[:200]}"
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error")
        if isinstance(error, str) and error in PERMANENT_ERRORS:
            return error
    return None


T = TypeVar("T")
LEASE_TTL = 20.0  # a crashed holder blocks an incident's thread this long at most
_SLUG = re.compile(r"[^a-z0-9-]+")
THREAD_GONE = frozenset({"message_not_found", "channel_not_found", "thread_not_found"})


def thread_gone(exc: SlackApiError) -> str | None:
    """Pure: the Slack error when `exc` says the incident's message or channel no longer
    exists (re-posting is the cure; retrying is not), else None."""
    error = str(exc.response.get("error") or "")
    return error if error in THREAD_GONE else None


class Step(IntEnum):
    """What an incident's thread needs next, most urgent first (the outbox priority).
    Priority 1 is `ANSWER_PRIORITY`: a reply someone is waiting for."""

    HEADER = 0
    TRIAGE = 2
    UPDATE = 3
    RESOLUTION = 4


def next_step(incident: Incident, now: datetime) -> Step | None:
    """Pure: the next Slack write an incident needs, or None when its thread is current."""
    if incident.muted_by or aware(incident.notify_at) > now:
        return None
    if incident.thread_ts is None:
        return None if incident.status == "resolved" else Step.HEADER
    if not incident.triage_posted:
        return Step.TRIAGE
    if incident.posted_version < incident.header_version:
        return Step.UPDATE
    if incident.status == "resolved" and not incident.resolution_posted:
        return Step.RESOLUTION
    return None


def shared_gate(cache: CacheSettings, slack: SlackSettings) -> SharedPacing | None:
    """Pacing shared by all replicas when Redis is configured; None keeps it per process."""
    if cache.url is None:
        return None
    return SharedPacing.from_url(
        cache.url, slack.post_rate_per_channel, slack.post_burst_per_channel, cache.key_prefix
    )


def shared_edit_gate(cache: CacheSettings, slack: SlackSettings) -> SharedPacing | None:
    """The workspace's chat.update bucket shared by all replicas (Redis configured and
    edits paced apart from posts); None keeps it per process."""
    if cache.url is None or slack.edit_rate_per_workspace <= 0:
        return None
    return SharedPacing.from_url(
        cache.url,
        slack.edit_rate_per_workspace,
        slack.edit_burst_per_workspace,
        cache.key_prefix,
        reserve=False,
    )


def shared_lane_gates(cache: CacheSettings) -> dict[str, SharedPacing]:
    """The writer's per-workspace lanes (ephemerals, modals, uploads, conversation writes:
    bot.slack.writer) shared by all replicas when Redis is configured, so N replicas
    together keep to each method's tier; empty keeps them per process. Each gate connects
    on first use, so a lane never written to opens no connection."""
    if cache.url is None:
        return {}
    return {
        lane: SharedPacing.from_url(cache.url, rate, burst, cache.key_prefix, reserve=False)
        for lane, (rate, burst) in LANE_RATES.items()
    }


class IncidentNotifier:
    """Posts and edits each incident's thread through a per-channel outbox, from the
    store's state; any replica may run any step."""

    def __init__(
        self,
        db: Database,
        metrics: Metrics,
        client: WebClient,
        slack: SlackSettings,
        cache: CacheSettings,
        *,
        after_triage: Callable[[int], None] | None = None,
    ) -> None:
        """`slack`: the incidents channel and the pacing rates; `cache`: where the pacing
        shared by replicas lives. `after_triage(incident_id)` is called once an incident's
        triage is posted (the composition root hands the investigation and the capacity scan
        their turn there)."""
        self.db = db
        self.metrics = metrics
        self.client = client
        self.default_channel = slack.incidents_channel
        self.channels = ChannelDirectory(client)
        self.after_triage = after_triage
        self.gate = shared_gate(cache, slack)  # None: pacing per process (no Redis configured)
        self.edit_gate = shared_edit_gate(cache, slack)
        self.lane_gates = shared_lane_gates(cache)
        self._stopped = False
        paced_apart = slack.edit_rate_per_workspace > 0
        edits = Pace(
            slack.edit_rate_per_workspace,
            slack.edit_burst_per_workspace,
            self.edit_gate,
            reserve=False,
        )
        self.outbox = Outbox(
            lambda incident_id: self._perform(
                incident_id, edit_slot=False if paced_apart else None
            ),
            rate=slack.post_rate_per_channel,
            burst=slack.post_burst_per_channel,
            workers=6,
            gate=self.gate,
            edits=edits if paced_apart else None,
            run_edit=lambda incident_id: self._perform(incident_id, edit_slot=True),
            lanes={
                lane: Pace(rate, burst, self.lane_gates.get(lane), reserve=False)
                for lane, (rate, burst) in LANE_RATES.items()
            },
        )

    def request(self, incident_id: int) -> None:
        """Queue the incident's next step; repeated requests coalesce."""
        if self._stopped:  # a retry timer that fired after shutdown
            return
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
            step = None if incident is None else next_step(incident, utcnow())
        if incident is not None and step is not None:
            edit = step is Step.UPDATE
            try:
                lane = self._lane(incident)
            except ChannelUnavailable:
                return  # reported once by the directory; the catch-up tries again later
            self.outbox.submit(lane, step, incident_id, edit=edit)
        self.metrics.queue_depth.labels("slack_outbox").set(self.outbox.depth())

    def stop(self) -> None:
        self._stopped = True
        self.outbox.stop()
        for gate in (self.gate, self.edit_gate, *self.lane_gates.values()):
            if gate is not None:
                gate.close()

    def paced(self, channel: str, fn: Callable[[], T], *, edit: bool = False) -> T:
        """Do one write to `channel` (an answer someone waits for) in the channel's pacing,
        after pending headers and before triage and edits (an edit in the edits' own
        pacing); returns what `fn` returns."""
        return self.outbox.call(self.channels.resolve(channel), ANSWER_PRIORITY, fn, edit=edit)

    def _lane(self, incident: Incident) -> str:
        """The channel a write will go to (the pacing key), known before the header exists."""
        if incident.thread_ts is not None:
            return incident.channel
        if incident.dedicated_channel:
            return f"new-channel-for-{incident.id}"
        return self.channels.resolve(incident.channel or self.default_channel)

    def _perform(self, incident_id: int, *, edit_slot: bool | None = None) -> bool:
        """The outbox's step: False when nothing was written, so the outbox gives the
        slot back (another replica did the step, or holds the incident, or the step now
        due is of the other kind than the slot: it is then queued again in its lane)."""
        with leases.held(self.db, f"incident-sync:{incident_id}", LEASE_TTL) as token:
            wrote = None if token is None else self._one_step(incident_id, edit_slot)
        if wrote is None:
            timer = threading.Timer(1.0, self.request, args=(incident_id,))
            timer.daemon = True
            timer.start()
            return False
        self.request(incident_id)
        return wrote

    def _one_step(self, incident_id: int, edit_slot: bool | None = None) -> bool:
        """Do the incident's next write; with `edit_slot` (True: a chat.update slot, False:
        a post slot) only if it is of that kind. True when something was written."""
        now = utcnow()
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
            step = None if incident is None else next_step(incident, now)
            if incident is None or step is None:
                return False
            if edit_slot is not None and edit_slot != (step is Step.UPDATE):
                return False
            view = view_of(session, incident)
            similar = similar_incidents(session, incident, now) if step is Step.TRIAGE else []
        try:
            self._write(step, incident, view, similar, now)
        except (SlackApiError, SlackObjectFormationError) as exc:
            reason = _permanent(exc)
            if reason is None:
                raise
            self._set_aside(incident, step, reason, now)
        return True

    def _write(
        self,
        step: Step,
        incident: Incident,
        view: IncidentView,
        similar: list[tuple[int, str, datetime]],
        now: datetime,
    ) -> None:
        """Do one Slack write of an incident's thread and record it; a thread whose message
        is gone is re-posted (`_thread_lost`)."""
        if step is Step.HEADER:
            self._post_header(incident, view, now)
            return
        try:
            self._write_in_thread(incident, step, view, similar, now)
        except SlackApiError as exc:
            error = thread_gone(exc)
            if error is None:
                raise
            self._thread_lost(incident, error)

    def _post_header(self, incident: Incident, view: IncidentView, now: datetime) -> None:
        incident_id = incident.id or 0
        channel = self._channel_for(incident)
        posted = self.client.chat_postMessage(
            channel=channel,
            text=header_text(view),
            blocks=header_blocks(view, now),
            unfurl_links=False,
            metadata=post_key("incident", incident_id, "header"),
        )
        self._save(
            incident_id,
            channel=channel,
            thread_ts=str(posted["ts"]),
            posted_version=incident.header_version,
        )
        log.info("incident thread opened", incident=incident_id, channel=channel, ts=posted["ts"])

    def _write_in_thread(
        self,
        incident: Incident,
        step: Step,
        view: IncidentView,
        similar: list[tuple[int, str, datetime]],
        now: datetime,
    ) -> None:
        incident_id = incident.id or 0
        if step is Step.TRIAGE:
            self.client.chat_postMessage(
                channel=incident.channel,
                thread_ts=incident.thread_ts,
                text=f"First triage of incident #{view.id}",
                blocks=triage_blocks(view, similar, now),
                metadata=post_key("incident", incident_id, "triage"),
            )
            self._save(incident_id, triage_posted=True)
            if self.after_triage is not None:
                self.after_triage(incident_id)
        elif step is Step.UPDATE:
            self.client.chat_update(
                channel=incident.channel,
                ts=incident.thread_ts or "",
                text=header_text(view),
                blocks=header_blocks(view, now),
            )
            self._save(incident_id, posted_version=incident.header_version)
        else:
            self.client.chat_postMessage(
                channel=incident.channel,
                thread_ts=incident.thread_ts,
                text=resolution_text(incident.title),
                blocks=resolution_blocks(
                    view, aware(incident.resolved_at or now), self._resolved_by(incident_id)
                ),
                metadata=post_key("incident", incident_id, "resolution", incident.header_version),
            )
            self._save(incident_id, resolution_posted=True)

    def _resolved_by(self, incident_id: int) -> Mrkdwn:
        """Who resolved the incident, from its timeline: a person (a mention), or its
        alerts."""
        with self.db.session() as session:
            event = session.exec(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "resolved")
                .order_by(col(IncidentEvent.at).desc())
            ).first()
        if event is None or event.text == "resolved by alertmanager":
            return Mrkdwn("all alerts resolved")
        who = event.text.removeprefix("resolved by ").removeprefix("<@").removesuffix(">")
        return Mrkdwn(f"resolved by {mention_or_name(who)}")

    def _thread_lost(self, incident: Incident, error: str) -> None:
        """The incident's Slack message is gone: forget it so the next step posts a new
        header (in the incidents channel if the channel went too), or, for a resolved
        incident, stop writing to it. Logged and put on the timeline once per lost message,
        whichever replica meets it first."""
        incident_id = incident.id or 0
        resolved = incident.status == "resolved"
        values: dict[str, object] = {
            "resolution_posted": True,
            "posted_version": incident.header_version,
        }
        if not resolved:
            values = {"thread_ts": None, "posted_version": 0, "triage_posted": False}
            if error == "channel_not_found" and not incident.dedicated_channel:
                values["channel"] = ""
        self._save(incident_id, **values)
        lost = f"{incident_id}:{incident.channel}:{incident.thread_ts}"
        if not self.db.claim_once("incident-thread-lost", lost):
            return
        then = "not re-posted (resolved)" if resolved else "re-posted as a new header"
        log.warning(
            "incident thread gone in Slack",
            incident=incident_id,
            channel=incident.channel,
            ts=incident.thread_ts,
            error=error,
            then=then,
        )
        with self.db.session() as session:
            session.add(
                IncidentEvent(
                    incident_id=incident_id,
                    kind="thread-lost",
                    text=f"its Slack message was gone ({error}); {then}",
                )
            )

    def _set_aside(self, incident: Incident, step: Step, reason: str, now: datetime) -> None:
        """A write Slack refused for good: recorded once on the incident's timeline and in
        the log (no traceback), and not retried every catch-up. A header Slack refuses is
        posted again as its text alone, so the thread exists."""
        incident_id = incident.id or 0
        log.warning(
            "incident write refused by Slack", incident=incident_id, step=step.name, error=reason
        )
        with self.db.session() as session:
            session.add(
                IncidentEvent(
                    incident_id=incident_id,
                    kind="slack_refused",
                    at=now,
                    text=f"{step.name.lower()} not posted: Slack answered {reason}"[:500],
                )
            )
        if step is Step.HEADER:
            channel = self._channel_for(incident)
            posted = self.client.chat_postMessage(
                channel=channel,
                text=f"Incident #{incident_id} (its details could not be shown)",
                metadata=post_key("incident", incident_id, "header"),
            )
            self._save(
                incident_id,
                channel=channel,
                thread_ts=str(posted["ts"]),
                posted_version=incident.header_version,
            )
        elif step is Step.TRIAGE:
            self._save(incident_id, triage_posted=True)
            if self.after_triage is not None:  # the investigation does not wait on Slack
                self.after_triage(incident_id)
        elif step is Step.UPDATE:
            self._save(incident_id, posted_version=incident.header_version)
        else:
            self._save(incident_id, resolution_posted=True)

    def _channel_for(self, incident: Incident) -> str:
        if not incident.dedicated_channel:
            return self.channels.resolve(incident.channel or self.default_channel)
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
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
            assert incident is not None
            for key, value in values.items():
                setattr(incident, key, value)
            session.add(incident)

    def catch_up(self) -> int:
        """Request a sync of every incident whose thread is behind the store."""
        now = utcnow()
        with self.db.session() as session:
            unposted = and_(
                col(Incident.thread_ts).is_(None),
                col(Incident.status) != "resolved",
                col(Incident.muted_by).is_(None),
                col(Incident.notify_at) <= now,
            )
            behind = and_(
                col(Incident.thread_ts).is_not(None),
                or_(
                    col(Incident.triage_posted).is_(False),
                    col(Incident.posted_version) < col(Incident.header_version),
                    col(Incident.resolution_posted).is_(False),
                ),
            )
            ids = session.exec(select(Incident.id).where(or_(unposted, behind))).all()
        for incident_id in ids:
            if incident_id is not None:
                self.request(incident_id)
        return len(ids)
