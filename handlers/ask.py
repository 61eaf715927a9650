"""/ask-ai, and conversations with opsbot in threads: a mention in an incident thread or an
/ask-ai thread, or a plain reply in an /ask-ai thread. Each acks at once; the answer
replaces a placeholder in the thread when it is ready."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app.runtime import Runtime
from bot.investigation.agent.request import InvestigationRequest, Workflow
from bot.investigation.agent.slack_answers import answer_in_thread, incident_request
from bot.investigation.agent.threads import (
    ask_thread,
    incident_of_thread,
    remember_ask_thread,
    thread_history,
    without_mentions,
)
from bot.investigation.blocks import evidence_modal
from bot.investigation.evidence_shelf import take
from bot.investigation.patterns.logquery import is_log_question
from bot.logs import get_logger
from bot.slack.blocks import ActionId, escape
from bot.store.models import utcnow
from handlers.commands import usage

log = get_logger("opsbot.ask")


ECHO_CHARS = 200  # the acknowledgement names the question; the thread root shows it whole


def clipped(text: str, limit: int = ECHO_CHARS) -> str:
    """`text` cut to `limit` characters at a word where possible, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut + "…"


def workflow_for(question: str) -> Workflow:
    return Workflow.LOG_QUERY if is_log_question(question) else Workflow.ASK


def ask(rt: Runtime, client: WebClient, channel: str, user: str, text: str) -> None:
    """Post the question as a thread root, then answer in its thread."""
    question_id = uuid.uuid4().hex
    root_text = f"<@{user}> asked: {escape(text)}"
    try:  # members get the thread's replies as message events (follow-ups)
        client.conversations_join(channel=channel)
    except SlackApiError as exc:  # a private channel or a DM: answer there all the same
        log.info("not joining", channel=channel, error=exc.response.get("error"))
    root = rt.notifier.paced(
        channel, lambda: client.chat_postMessage(channel=channel, text=root_text)
    )
    thread_ts = str(root["ts"])
    remember_ask_thread(rt.deps.cache, channel, thread_ts, question_id)
    request = InvestigationRequest(
        workflow=workflow_for(text), question=text, now=utcnow(), question_id=question_id
    )
    answer_in_thread(
        client,
        rt.investigator,
        request,
        channel,
        thread_ts,
        "Answer",
        rt.notifier.paced,
        rt.deps.cache,
    )


def follow_up(
    rt: Runtime, client: WebClient, event: dict[str, Any], bot_user_id: str | None
) -> None:
    """Answer a message in a known thread, with the thread so far as history."""
    channel, thread_ts = str(event["channel"]), str(event["thread_ts"])
    question = without_mentions(str(event.get("text") or ""))
    history = thread_history(client, channel, thread_ts, bot_user_id, str(event["ts"]))
    incident = incident_of_thread(rt.deps.db, channel, thread_ts)
    if incident is not None:
        request = incident_request(incident, rt.deps.db, question, history)
        if is_log_question(question):
            request = replace(request, workflow=Workflow.LOG_QUERY)
    else:
        question_id = ask_thread(rt.deps.cache, channel, thread_ts) or uuid.uuid4().hex
        request = InvestigationRequest(
            workflow=workflow_for(question),
            question=question,
            now=utcnow(),
            question_id=question_id,
            history=history,
        )
    answer_in_thread(
        client,
        rt.investigator,
        request,
        channel,
        thread_ts,
        "Answer",
        rt.notifier.paced,
        rt.deps.cache,
    )


def answer_mention(rt: Runtime, client: WebClient, event: dict[str, Any]) -> None:
    """A question put to opsbot by mentioning it outside a known thread: answered like
    /ask-ai, in the mention's thread, which then takes follow-ups like an /ask-ai thread."""
    channel = str(event["channel"])
    thread_ts = str(event.get("thread_ts") or event["ts"])
    question = without_mentions(str(event.get("text") or ""))
    question_id = uuid.uuid4().hex
    remember_ask_thread(rt.deps.cache, channel, thread_ts, question_id)
    request = InvestigationRequest(
        workflow=workflow_for(question), question=question, now=utcnow(), question_id=question_id
    )
    answer_in_thread(
        client, rt.investigator, request, channel, thread_ts, "Answer", rt.notifier.paced
    )


def register(app: App, rt: Runtime) -> None:
    def known_thread(event: dict[str, Any]) -> bool:
        thread = event.get("thread_ts")
        if not thread:
            return False
        channel = str(event.get("channel"))
        return ask_thread(rt.deps.cache, channel, str(thread)) is not None or (
            incident_of_thread(rt.deps.db, channel, str(thread)) is not None
        )

    def reply_in_ask_thread(event: dict[str, Any], context: dict[str, Any]) -> bool:
        thread = event.get("thread_ts")
        mentioned = f"<@{context.get('bot_user_id')}>" in str(event.get("text") or "")
        if not thread or thread == event.get("ts") or mentioned:
            return False
        if event.get("subtype") or event.get("bot_id"):
            return False
        return ask_thread(rt.deps.cache, str(event.get("channel")), str(thread)) is not None

    @app.action(ActionId.FINDING_EVIDENCE.value)
    def on_show_evidence(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        # trigger_id is valid for 3 seconds: open the modal now, not in a worker.
        evidence = take(rt.deps.cache, str(action.get("value", "")))
        client.views_open(trigger_id=body["trigger_id"], view=evidence_modal(evidence))

    @app.command("/ask-ai")
    def on_ask(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        text = str(command.get("text") or "").strip()
        if text.lower() in ("", "help"):
            ack(**usage("/ask-ai"))
            return
        ack(response_type="ephemeral", text=f"Looking into it: {escape(clipped(text))}")
        rt.deps.run_later(
            "ask-ai", ask, rt, client, command["channel_id"], command["user_id"], text
        )

    @app.event("app_mention", matchers=[known_thread])
    def on_mention_in_thread(
        event: dict[str, Any], client: WebClient, context: dict[str, Any]
    ) -> None:
        rt.deps.run_later("ask-follow-up", follow_up, rt, client, event, context.get("bot_user_id"))

    @app.event("message", matchers=[reply_in_ask_thread])
    def on_reply_in_ask_thread(
        event: dict[str, Any], client: WebClient, context: dict[str, Any]
    ) -> None:
        rt.deps.run_later("ask-follow-up", follow_up, rt, client, event, context.get("bot_user_id"))
