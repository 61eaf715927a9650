"""Answers in Slack threads: a placeholder first, replaced by the finding when it is ready;
and the incident pipeline's hand-off (once per incident, across replicas)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol

from slack_sdk import WebClient

from bot.cache import Cache
from bot.investigation.agent.finding import Investigation
from bot.investigation.agent.request import InvestigationRequest, Turn, Workflow
from bot.investigation.agent.threads import incident_alerts
from bot.investigation.blocks import finding_blocks, finding_text, placeholder_blocks
from bot.investigation.evidence_shelf import shelve
from bot.investigation.no_sources import no_sources_blocks, no_sources_text
from bot.logs import get_logger
from bot.slack.blocks import as_dicts
from bot.slack.outbox import Paces, unpaced
from bot.store.db import Database
from bot.store.incidents import Incident
from bot.store.models import utcnow

log = get_logger("opsbot.answers")


class Investigates(Protocol):
    @property
    def has_tools(self) -> bool: ...

    def investigate(self, request: InvestigationRequest) -> Investigation: ...


def where_of(request: InvestigationRequest) -> str:
    """`checkout in prod`: the service and namespace the question or incident is about."""
    service = request.service or next(
        (str(a.labels.get("service") or a.labels.get("app") or "") for a in request.alerts), ""
    )
    namespace = request.namespace or next(
        (str(a.labels.get("namespace") or "") for a in request.alerts), ""
    )
    if service and namespace:
        return f"{service} in {namespace}"
    return service or namespace


def since_of(request: InvestigationRequest, answer: Investigation) -> datetime | None:
    """When it started: the first alert's start, else the strongest metric change."""
    starts = [a.starts_at for a in request.alerts if a.starts_at]
    if starts:
        return min(starts)
    changes = answer.finding.changes
    return changes[0].at if changes else None


def answer_in_thread(
    client: WebClient,
    investigator: Investigates,
    request: InvestigationRequest,
    channel: str,
    thread_ts: str,
    title: str,
    pace: Paces = unpaced,
    shelf: Cache | None = None,
) -> Investigation | None:
    """Placeholder, investigation, answer. The two writes go through `pace` (the channel's
    Slack outbox, ahead of triage and edits) so they share the channel's rate limit. With a
    `shelf`, the raw evidence is kept there for the answer's "Show evidence" button.
    Without a data source there is nothing to investigate with: the thread is told so and
    how to connect one (None is returned), rather than shown an empty "finding"."""
    if not investigator.has_tools:
        subject = request.question or request.title
        pace(
            channel,
            lambda: client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=no_sources_text(subject),
                blocks=as_dicts(no_sources_blocks(subject)),
            ),
        )
        log.info("not investigated: no data source", subject=request.subject)
        return None
    posted = pace(
        channel,
        lambda: client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text="Investigating…",
            blocks=as_dicts(placeholder_blocks(request.question or request.title)),
        ),
    )
    placeholder = str(posted["ts"])
    try:
        answer = investigator.investigate(request)
    except Exception:  # re-raised: only tells the thread before the job wrapper logs it
        pace(
            channel,
            lambda: client.chat_update(
                channel=channel, ts=placeholder, text=":x: The investigation failed.", blocks=[]
            ),
            edit=True,
        )
        raise
    ref = shelve(shelf, answer.finding.evidence) if shelf and answer.finding.evidence else None
    blocks = finding_blocks(
        answer,
        title,
        where=where_of(request),
        since=since_of(request, answer),
        evidence_ref=ref,
    )
    pace(
        channel,
        lambda: client.chat_update(
            channel=channel,
            ts=placeholder,
            text=finding_text(answer),
            blocks=as_dicts(blocks),
        ),
        edit=True,
    )
    log.info(
        "answered",
        subject=request.subject,
        engine=answer.engine.value,
        tokens=answer.usage.total_tokens,
        cost=round(answer.usage.cost_usd, 5),
    )
    return answer


def incident_request(
    incident: Incident, db: Database, question: str = "", history: tuple[Turn, ...] = ()
) -> InvestigationRequest:
    """What to investigate about `incident`: its title, workload and stored alerts, plus a
    follow-up `question` and the thread's `history` when someone asked in its thread."""
    return InvestigationRequest(
        workflow=Workflow.INCIDENT,
        question=question,
        now=utcnow(),
        incident_id=incident.id,
        title=incident.title,
        namespace=incident.namespace or None,
        service=incident.service or None,
        alerts=incident_alerts(db, incident.id or 0),
        history=history,
    )


THREAD_WAIT_S = 30.0  # an Investigate click can come between the header's post and its record


def _incident_with_thread(db: Database, incident_id: int, wait_s: float) -> Incident | None:
    """The incident, once its thread is recorded or `wait_s` has passed: a click on a
    header that Slack already shows may arrive before the notifier has stored its ts."""
    deadline = time.monotonic() + wait_s
    while True:
        with db.session() as session:
            incident = session.get(Incident, incident_id)
        if incident is None or incident.thread_ts is not None or time.monotonic() >= deadline:
            return incident
        time.sleep(0.25)


def post_incident_finding(
    db: Database,
    shelf: Cache | None,
    client: WebClient,
    investigator: Investigates,
    incident_id: int,
    *,
    once: bool = True,
    pace: Paces = unpaced,
) -> Investigation | None:
    """Investigate an incident and post the finding in its thread: once per incident for
    the pipeline; again on request (`once=False`, the Investigate button), which always
    ends with a finding or a message in the thread saying why there is none. When nothing
    can be posted (no incident, no thread yet) the reason is logged. `shelf` keeps the raw
    evidence for the answer's "Show evidence" button."""
    incident = _incident_with_thread(db, incident_id, THREAD_WAIT_S if not once else 0.0)
    if incident is None or incident.thread_ts is None:
        log.warning(
            "incident not investigated",
            incident=incident_id,
            reason="no such incident" if incident is None else "its thread is not posted yet",
        )
        return None
    if once and not investigator.has_tools:
        log.info("incident not investigated: no data source", incident=incident_id)
        return None
    if once and not db.claim_once("incident-finding", str(incident_id)):
        return None
    request = incident_request(incident, db)
    return answer_in_thread(
        client,
        investigator,
        request,
        incident.channel,
        incident.thread_ts,
        f"Investigation of incident #{incident_id}",
        pace,
        shelf,
    )
