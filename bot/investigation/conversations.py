"""Conversations with opsbot in Slack: /ask-ai questions, mentions, and follow-ups in the
threads opsbot answers in (an /ask-ai thread, a mention's thread, an incident thread).

The handlers parse and ack; everything after the ack is here, one method per thing that
happened in Slack. Whether a mention or a message belongs to a known thread is decided
here too, so the handlers' registration order never matters.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.cache import Cache
from bot.investigation.agent.request import InvestigationRequest, Workflow
from bot.investigation.agent.slack_answers import Investigates, answer_in_thread, incident_request
from bot.investigation.agent.threads import (
    HistoryUnreadable,
    ask_thread,
    incident_of_thread,
    remember_ask_thread,
    thread_history,
    without_mentions,
)
from bot.investigation.blocks import evidence_modal, without_history_note
from bot.investigation.evidence_shelf import take
from bot.investigation.intent import MentionIntent, mention_intent
from bot.investigation.patterns.logquery import is_log_question
from bot.logs import get_logger
from bot.slack.blocks import as_dicts, escape, mention_help_blocks
from bot.slack.outbox import Paces
from bot.store.db import Database
from bot.store.models import utcnow

log = get_logger("opsbot.ask")


def workflow_for(question: str) -> Workflow:
    """Pure: a question about logs gets the log workflow (small model, log tools only)."""
    return Workflow.LOG_QUERY if is_log_question(question) else Workflow.ASK


class Conversations:
    """Answers questions in Slack threads; built by the composition root with the store
    (incident threads), the cache (which threads are /ask-ai threads, and the evidence
    shelf), the investigator and the channel pacing every answer goes through."""

    def __init__(self, db: Database, cache: Cache, investigator: Investigates, pace: Paces) -> None:
        self.db = db
        self.cache = cache
        self.investigator = investigator
        self.pace = pace

    def ask(self, client: WebClient, channel: str, user: str, text: str) -> None:
        """/ask-ai: post the question as a thread root, then answer in its thread."""
        question_id = uuid.uuid4().hex
        root_text = f"<@{user}> asked: {escape(text)}"
        try:  # members get the thread's replies as message events (follow-ups)
            client.conversations_join(channel=channel)
        except SlackApiError as exc:  # a private channel or a DM: answer there all the same
            log.info("not joining", channel=channel, error=exc.response.get("error"))
        root = self.pace(channel, lambda: client.chat_postMessage(channel=channel, text=root_text))
        thread_ts = str(root["ts"])
        remember_ask_thread(self.cache, channel, thread_ts, question_id)
        request = InvestigationRequest(
            workflow=workflow_for(text), question=text, now=utcnow(), question_id=question_id
        )
        self._answer(client, request, channel, thread_ts)

    def mention(self, client: WebClient, event: dict[str, Any], bot_user_id: str | None) -> None:
        """Someone mentioned opsbot: in a known thread it is a follow-up; elsewhere a
        question is answered like /ask-ai in the mention's thread, and help or small talk
        gets the capabilities card."""
        channel = str(event["channel"])
        thread = event.get("thread_ts")
        if thread and self.in_known_thread(channel, str(thread)):
            self.follow_up(client, event, bot_user_id)
            return
        question = without_mentions(str(event.get("text") or ""))
        thread_ts = str(thread or event["ts"])
        if mention_intent(question) is not MentionIntent.QUESTION:
            client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text="Here is what I can do",
                blocks=as_dicts(mention_help_blocks()),
            )
            return
        question_id = uuid.uuid4().hex
        remember_ask_thread(self.cache, channel, thread_ts, question_id)
        request = InvestigationRequest(
            workflow=workflow_for(question),
            question=question,
            now=utcnow(),
            question_id=question_id,
        )
        answer_in_thread(
            client, self.investigator, request, channel, thread_ts, "Answer", self.pace
        )

    def message(self, client: WebClient, event: dict[str, Any], bot_user_id: str | None) -> None:
        """A message: a plain reply (no mention, not from a bot) in an /ask-ai thread is a
        follow-up; any other message is left alone (mentions arrive as `mention`)."""
        thread = event.get("thread_ts")
        mentioned = f"<@{bot_user_id}>" in str(event.get("text") or "")
        if not thread or thread == event.get("ts") or mentioned:
            return
        if event.get("subtype") or event.get("bot_id"):
            return
        if ask_thread(self.cache, str(event.get("channel")), str(thread)) is None:
            return
        self.follow_up(client, event, bot_user_id)

    def in_known_thread(self, channel: str, thread_ts: str) -> bool:
        """Whether opsbot converses in this thread: an /ask-ai thread or an incident's."""
        return ask_thread(self.cache, channel, thread_ts) is not None or (
            incident_of_thread(self.db, channel, thread_ts) is not None
        )

    def follow_up(self, client: WebClient, event: dict[str, Any], bot_user_id: str | None) -> None:
        """Answer a message in a known thread, with the thread so far as history."""
        channel, thread_ts = str(event["channel"]), str(event["thread_ts"])
        question = without_mentions(str(event.get("text") or ""))
        try:
            history = thread_history(client, channel, thread_ts, bot_user_id, str(event["ts"]))
        except HistoryUnreadable as exc:
            log.warning("answering without the thread's history", channel=channel, error=exc.error)
            history = ()
            note, blocks = without_history_note(exc.error)
            self.pace(
                channel,
                lambda: client.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, text=note, blocks=blocks
                ),
            )
        incident = incident_of_thread(self.db, channel, thread_ts)
        if incident is not None:
            request = incident_request(incident, self.db, question, history)
            if is_log_question(question):
                request = replace(request, workflow=Workflow.LOG_QUERY)
        else:
            question_id = ask_thread(self.cache, channel, thread_ts) or uuid.uuid4().hex
            request = InvestigationRequest(
                workflow=workflow_for(question),
                question=question,
                now=utcnow(),
                question_id=question_id,
                history=history,
            )
        self._answer(client, request, channel, thread_ts)

    def evidence_view(self, ref: str) -> View:
        """The "Show evidence" modal for an answer's shelved evidence (`ref`)."""
        return evidence_modal(take(self.cache, ref))

    def _answer(
        self, client: WebClient, request: InvestigationRequest, channel: str, thread_ts: str
    ) -> None:
        answer_in_thread(
            client,
            self.investigator,
            request,
            channel,
            thread_ts,
            "Answer",
            self.pace,
            self.cache,
        )
