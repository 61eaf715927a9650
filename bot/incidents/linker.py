"""Links an incident to the other open incidents of the same problem, once its thread exists.

Called after an incident's first triage: reads the other open incidents whose threads are
posted, asks the dependency graph (from the traces) how their services depend on each
other, and for each link the pure rules find (`bot.incidents.linking.links_for`) records it
on both timelines, posts one line in both threads (each linking to the other thread) and
has both headers re-rendered with a "Linked incidents" line. A pair is linked once,
whichever replica or incident gets there first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import col, select

from bot.incidents.blocks import LinkLine, link_message, link_message_text
from bot.incidents.dependencies import DependencyGraph
from bot.incidents.linking import LINK_WINDOW, IncidentLink, LinkCandidate, links_for
from bot.incidents.views import LINKED
from bot.logs import get_logger
from bot.slack.outbox import Paces, unpaced
from bot.slack.posting import post_key
from bot.store.db import Database
from bot.store.incidents import Incident, IncidentEvent
from bot.store.models import aware, utcnow
from tools.base import ToolFailure

log = get_logger("opsbot.incidents.links")


def candidate_of(incident: Incident) -> LinkCandidate:
    return LinkCandidate(
        id=incident.id or 0,
        service=incident.service,
        namespace=incident.namespace,
        opened_at=aware(incident.opened_at),
    )


class IncidentLinker:
    """Finds and records the links of one incident (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        client: WebClient,
        dependencies: DependencyGraph,
        request: Callable[[int], None],
        pace: Paces = unpaced,
    ) -> None:
        """`request(incident_id)` queues a header refresh (the notifier's)."""
        self.db = db
        self.client = client
        self.dependencies = dependencies
        self.request = request
        self.pace = pace

    def link(self, incident_id: int, now: datetime | None = None) -> list[IncidentLink]:
        """Link `incident_id` to the open incidents of the same problem; returns the links
        made now (none when Jaeger cannot answer: logged, and the incident goes on)."""
        now = now or utcnow()
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
            if incident is None or incident.status == "resolved" or not incident.service:
                return []
            this = candidate_of(incident)
            others = [
                candidate_of(row)
                for row in session.exec(
                    select(Incident).where(
                        Incident.id != incident_id,
                        col(Incident.status) != "resolved",
                        col(Incident.thread_ts).is_not(None),
                        col(Incident.opened_at) >= this.opened_at - LINK_WINDOW,
                    )
                ).all()
                if row.service
            ]
        if not others:
            return []
        try:
            graph = self.dependencies.graph({this.service, *(o.service for o in others)}, now)
        except ToolFailure as exc:
            log.warning("incidents not linked: no dependency graph", error=str(exc)[:200])
            return []
        made = []
        for found in links_for(this, others, graph):
            pair = "-".join(str(n) for n in sorted((found.incident_id, found.other_id)))
            if not self.db.claim_once("incident-link", pair):
                continue
            self._record(found, now)
            made.append(found)
            log.info(
                "incidents linked",
                incident=found.incident_id,
                other=found.other_id,
                relation=found.relation.value,
            )
        return made

    def close(self) -> None:
        """Release the dependency source's connections (at shutdown)."""
        self.dependencies.close()

    def _record(self, found: IncidentLink, now: datetime) -> None:
        """Both timelines, both threads, both headers."""
        for one in (found, found.mirrored):
            permalink = self._permalink(one.other_id)
            with self.db.session() as session:
                session.add(
                    IncidentEvent(
                        incident_id=one.incident_id,
                        kind=LINKED,
                        at=now,
                        text=f"{one.relation.value} incident #{one.other_id} ({one.because()})",
                        detail={
                            "other": one.other_id,
                            "relation": one.relation.value,
                            "because": one.because(),
                            "permalink": permalink,
                        },
                    )
                )
                incident = session.get(Incident, one.incident_id)
                other = session.get(Incident, one.other_id)
                assert incident is not None
                assert other is not None
                incident.header_version += 1
                session.add(incident)
                line = LinkLine(
                    relation=one.relation.value,
                    other_id=one.other_id,
                    other_title=other.title,
                    other_service=other.service,
                    permalink=permalink,
                    because=one.because(),
                )
                channel, thread_ts = incident.channel, incident.thread_ts
            if thread_ts:
                self._post(one, channel, thread_ts, line)
            self.request(one.incident_id)

    def _post(self, one: IncidentLink, channel: str, thread_ts: str, line: LinkLine) -> None:
        try:
            self.pace(
                channel,
                lambda: self.client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts,
                    text=link_message_text(line),
                    blocks=link_message(line),
                    metadata=post_key("incident", one.incident_id, f"link-{one.other_id}"),
                ),
            )
        except SlackApiError as exc:  # the header still shows the link
            log.warning(
                "link message not posted",
                incident=one.incident_id,
                error=exc.response.get("error"),
            )

    def _permalink(self, incident_id: int) -> str:
        """The incident's thread permalink ("" when it has no thread or Slack cannot say)."""
        with self.db.session() as session:
            incident = session.get(Incident, incident_id)
        if incident is None or not incident.thread_ts:
            return ""
        try:
            found = self.client.chat_getPermalink(
                channel=incident.channel, message_ts=incident.thread_ts
            )
        except SlackApiError:
            return ""
        return str(found.get("permalink") or "")
