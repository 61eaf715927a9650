"""Where a conversation with opsbot lives in Slack, and its history rebuilt from the thread."""

from __future__ import annotations

import re
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import select

from bot.cache import Cache
from bot.investigation.agent.request import AlertContext, Turn
from bot.store.db import Database
from bot.store.incidents import Alert, Incident
from bot.store.models import aware

ASK_THREAD_TTL = timedelta(days=14).total_seconds()
MAX_HISTORY = 20
_MENTION = re.compile(r"<@[A-Z0-9]+>")


def remember_ask_thread(cache: Cache, channel: str, thread_ts: str, question_id: str) -> None:
    cache.set(f"agent:ask-thread:{channel}:{thread_ts}", question_id.encode(), ASK_THREAD_TTL)


def ask_thread(cache: Cache, channel: str, thread_ts: str) -> str | None:
    """The question id of an /ask-ai thread, or None when the thread is not one."""
    found = cache.get(f"agent:ask-thread:{channel}:{thread_ts}")
    return found.decode() if found is not None else None


def incident_of_thread(db: Database, channel: str, thread_ts: str) -> Incident | None:
    with db.session() as session:
        return session.exec(
            select(Incident).where(Incident.thread_ts == thread_ts, Incident.channel == channel)
        ).first()


def incident_alerts(db: Database, incident_id: int) -> tuple[AlertContext, ...]:
    with db.session() as session:
        rows = session.exec(select(Alert).where(Alert.incident_id == incident_id)).all()
    return tuple(
        AlertContext(
            name=row.name,
            status=row.status,
            starts_at=aware(row.starts_at),
            labels=dict(row.labels),
            annotations=dict(row.annotations),
        )
        for row in rows
    )


def without_mentions(text: str) -> str:
    return _MENTION.sub("", text).strip()


class HistoryUnreadable(Exception):
    """Slack would not give the thread's earlier messages (`error` is its error code)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def thread_history(
    client: WebClient, channel: str, thread_ts: str, bot_user_id: str | None, before_ts: str
) -> tuple[Turn, ...]:
    """Earlier messages of the thread (not `before_ts` and later), oldest first.
    HistoryUnreadable when Slack refuses them: the caller answers without history and
    says so, rather than not answering at all."""
    try:
        page = client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
    except SlackApiError as exc:
        raise HistoryUnreadable(str(exc.response.get("error") or "unknown_error")) from exc
    turns: list[Turn] = []
    for message in page.get("messages") or []:
        if float(message.get("ts", "0")) >= float(before_ts):
            continue
        text = without_mentions(str(message.get("text") or ""))
        if not text:
            continue
        mine = bool(message.get("bot_id")) or (bot_user_id and message.get("user") == bot_user_id)
        turns.append(Turn(role="assistant" if mine else "user", text=text[:3000]))
    return tuple(turns[-MAX_HISTORY:])
