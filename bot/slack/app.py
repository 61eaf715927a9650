"""The one Bolt `App`, its Web API client and its framework-level middleware."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.error import BoltUnhandledRequestError

from bot.logs import get_logger
from bot.metrics import Metrics
from bot.settings import SlackSettings
from bot.slack.posting import IdempotentWebClient, build_web_client
from bot.slack.unsure import StoredOutcomes
from bot.store.db import Database

log = get_logger("opsbot.slack")


def build_client(slack: SlackSettings, db: Database) -> IdempotentWebClient:
    """A WebClient that honours 429 Retry-After, retries 5xx and connection errors, and
    posts each message at most once (bot.slack.posting), across replicas and restarts
    (bot.slack.unsure, whose records `db` keeps)."""
    token = slack.bot_token.get_secret_value() if slack.bot_token else None
    return build_web_client(
        token, slack.api_url, slack.api_timeout_seconds, outcomes=StoredOutcomes(db)
    )


UNHANDLED_KINDS_LOGGED = 100  # action ids are untrusted: the set of logged kinds is capped


def _unhandled_kind(body: dict[str, Any]) -> str:
    """The request's kind, with the action id for an interaction (clipped: untrusted)."""
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    if isinstance(first, dict):
        return f"{_request_kind(body)}:{str(first.get('action_id', '?'))[:60]}"
    return _request_kind(body)


def _request_kind(body: dict[str, Any]) -> str:
    if "command" in body:
        return f"command:{body['command']}"
    if body.get("type") == "event_callback":
        return f"event:{body.get('event', {}).get('type', '?')}"
    return str(body.get("type", "unknown"))


def build_app(
    slack: SlackSettings,
    db: Database,
    metrics: Metrics,
    worker_threads: int,
    client: IdempotentWebClient | None = None,
) -> App:
    """The Bolt app: its client (`client`, else `build_client`), `worker_threads` listener
    threads, and middlewares that hand every listener that one client (Bolt would make a
    plain WebClient per request, outside the writer's pacing and idempotency), skip
    re-delivered events (claimed in `db`) and time every ack."""
    http_mode = slack.mode == "http"
    writer = client or build_client(slack, db)
    app = App(
        client=writer,
        signing_secret=slack.signing_secret.get_secret_value() if slack.signing_secret else "",
        request_verification_enabled=http_mode,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(
            max_workers=worker_threads, thread_name_prefix="opsbot-listener"
        ),
        logger=logging.getLogger("slack_bolt"),
        # Not "opsbot": Bolt sets the level of the logger named after the App (bot.logs).
        name="opsbot-bolt",
        # A request no listener handles reaches on_error, which acknowledges it: Bolt's
        # default answer is a 404, which Slack shows the person as an error.
        raise_error_for_unhandled_request=True,
    )
    unhandled: set[str] = set()

    @app.middleware
    def one_writer(context: BoltContext, next: Callable[[], BoltResponse]) -> Any:
        """Listeners write through the app's one client (bot.slack.writer), never Bolt's
        per-request copy, so no listener can write outside the pacing."""
        context["client"] = writer
        return next()

    @app.middleware
    def measure_and_dedupe(body: dict[str, Any], next: Callable[[], BoltResponse]) -> Any:
        """Skip an event Slack re-delivers (same `event_id`); time every request to its ack."""
        kind = _request_kind(body)
        event_id = body.get("event_id")
        if event_id and not db.claim_once("slack_event", str(event_id)):
            log.info("duplicate event skipped", event_id=event_id, kind=kind)
            return BoltResponse(status=200, body="")
        started = time.perf_counter()
        try:
            return next()
        finally:
            metrics.handler_latency.labels(kind).observe(time.perf_counter() - started)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
        """Outer boundary: a listener's failure is logged, never crashes the process. A
        request no listener handles (an action or event this version does not know) is
        acknowledged and logged once per kind."""
        if isinstance(error, BoltUnhandledRequestError):
            kind = _unhandled_kind(body)
            if kind not in unhandled and len(unhandled) < UNHANDLED_KINDS_LOGGED:
                unhandled.add(kind)
                log.warning("acknowledged a Slack request no listener handles", kind=kind)
            return BoltResponse(status=200, body="")
        log.error("listener failed", kind=_request_kind(body), error=repr(error))
        return None

    return app
