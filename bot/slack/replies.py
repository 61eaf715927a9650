"""Replies to a person through a response_url, owned by the one outbound writer.

A slash command or a click carries a `response_url`: Slack takes a reply there (ephemeral,
in channel, replacing the original) without a Web API call. Bolt's `respond()` posts to it
with a WebhookClient of its own — outside the writer's fitting, pacing and retry budget —
so the handlers get `ResponseUrlReplies.reply` instead:

- **Fitted** like every chat post (`bot.slack.fit.fit_message`): a reply over Slack's limits
  is cut and shortened, never refused.
- **Paced** in its own lane of the outbox (`bot.slack.writer.RESPONSE_URL_LANE`).
- **One retry budget** (`bot.slack.retries.RetryBudget`, the client's): a 429 waits its
  Retry-After, a 5xx or a connection error backs off, until the budget is spent.
- **Slack's use limit**: a response_url "may be used up to 5 times within 30 minutes"
  of the interaction (docs.slack.dev, handling user interaction). The uses are counted here
  (every attempt counts: Slack may have counted a failed one); past the limit, past the
  half hour, when the URL answers `expired_url`/`used_url`/`invalid_url` (or 404), or
  when the budget is spent on transient failures (a duplicate ephemeral beats silence),
  the reply goes by chat.postEphemeral (chat.postMessage for `in_channel`) through the
  bot's client, which is paced and fitted too, when the person and channel are known.
- A permanent error (`invalid_blocks`, `no_text`, …, or a fallback Slack refuses) is logged
  once and not retried: the reply is given up, the caller's work is not.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.logs import get_logger
from bot.slack.fit import fit_message
from bot.slack.posting import IdempotentWebClient
from bot.slack.retries import retry_after
from bot.slack.writer import RESPONSE_URL_LANE

log = get_logger("opsbot.slack.replies")

MAX_USES = 5  # "up to 5 times within 30 minutes" (docs.slack.dev, handling user interaction)
TTL_S = 30 * 60.0
GONE = frozenset({"expired_url", "used_url", "invalid_url"})
DELIVERED = "response_url"
EPHEMERAL = "chat.postEphemeral"
POSTED = "chat.postMessage"
# What a response_url reply may carry that chat.postEphemeral/postMessage do not.
_URL_ONLY = ("response_type", "replace_original", "delete_original")


@dataclass(frozen=True)
class ReplyTo:
    """Where a reply goes: the interaction's `response_url`, and the person and channel a
    fallback ephemeral needs (`received`: when the interaction came, time.monotonic)."""

    response_url: str
    user: str | None
    channel: str | None
    thread_ts: str | None = None
    received: float = field(default_factory=time.monotonic)

    @classmethod
    def of_command(cls, command: Mapping[str, Any]) -> ReplyTo:
        """Pure: the reply address of a slash command payload."""
        return cls(
            str(command.get("response_url") or ""),
            _str(command.get("user_id")),
            _str(command.get("channel_id")),
        )

    @classmethod
    def of_action(cls, body: Mapping[str, Any]) -> ReplyTo:
        """Pure: the reply address of a block_actions payload (in the clicked message's
        thread when it is in one)."""
        user, channel = body.get("user"), body.get("channel")
        message = body.get("message")
        return cls(
            str(body.get("response_url") or ""),
            _str(user.get("id")) if isinstance(user, Mapping) else None,
            _str(channel.get("id")) if isinstance(channel, Mapping) else None,
            _str(message.get("thread_ts")) if isinstance(message, Mapping) else None,
        )


def _str(value: Any) -> str | None:
    return str(value) if value else None


@dataclass
class _Uses:
    received: float
    count: int = 0


class ResponseUrlReplies:
    """The writer-owned `respond()`: see the module doc. `writer` is the bot's one client
    (its outbox lanes, its retry budget, its fallback calls). Thread-safe (handlers reply
    from worker threads)."""

    def __init__(
        self,
        writer: IdempotentWebClient,
        *,
        timeout: int = 10,
        max_uses: int = MAX_USES,
        ttl_s: float = TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.writer = writer
        self.timeout = timeout
        self.max_uses = max_uses
        self.ttl_s = ttl_s
        self.clock = clock
        self._uses: dict[str, _Uses] = {}
        self._lock = threading.Lock()

    def reply(self, to: ReplyTo, **message: Any) -> str:
        """Send `message` (respond()'s arguments: text, blocks, response_type, …) to `to`;
        returns how it went: "response_url", "chat.postEphemeral", "chat.postMessage", or
        "failed: <error>" (logged once)."""
        body = fit_message(message)
        if not to.response_url:
            return self._fall_back(to, body, "no_response_url")
        budget = self.writer.budget
        started = time.monotonic()
        wait, attempt, error = 0.0, 0, "unknown_error"
        while True:
            if attempt:
                if not budget.allows(attempt, started, wait):
                    return self._fall_back(to, body, error)
                time.sleep(wait)
            attempt += 1
            if not self._take_use(to):
                return self._fall_back(to, body, "used_url")
            try:
                answer = self.writer.paced(
                    RESPONSE_URL_LANE, None, lambda: self._post(to.response_url, body)
                )
            except OSError as exc:  # a connection error, a timeout: transient
                error, wait = type(exc).__name__, budget.backoff(attempt)
                continue
            error = _error_of(answer)
            if answer.status_code == 200 and error == "ok":
                return DELIVERED
            if answer.status_code == 429:
                wait = retry_after(answer.headers)
                continue
            if answer.status_code >= 500:
                wait = budget.backoff(attempt)
                continue
            if error in GONE or answer.status_code == 404:
                self._spent(to)
                return self._fall_back(to, body, error)
            log.warning("a response_url reply was refused", error=error, status=answer.status_code)
            return f"failed: {error}"

    def _post(self, url: str, body: dict[str, Any]) -> WebhookResponse:
        # No retry handlers of its own: the loop in `reply` spends the one budget.
        return WebhookClient(url, timeout=self.timeout, retry_handlers=[]).send_dict(body)

    def _take_use(self, to: ReplyTo) -> bool:
        """Count one use of `to.response_url`; False when Slack would refuse it."""
        now = self.clock()
        with self._lock:
            for url in [u for u, s in self._uses.items() if now - s.received > self.ttl_s]:
                del self._uses[url]
            uses = self._uses.setdefault(to.response_url, _Uses(to.received))
            if now - uses.received > self.ttl_s or uses.count >= self.max_uses:
                return False
            uses.count += 1
            return True

    def _spent(self, to: ReplyTo) -> None:
        """Slack says the URL is gone: later replies to it fall back at once."""
        with self._lock:
            self._uses.setdefault(to.response_url, _Uses(to.received)).count = self.max_uses

    def _fall_back(self, to: ReplyTo, body: dict[str, Any], why: str) -> str:
        """The reply by chat.postEphemeral (chat.postMessage when `in_channel`)."""
        if body.get("delete_original"):
            return f"failed: {why}"  # nothing to show: the original stays
        if not to.channel or (not to.user and body.get("response_type") != "in_channel"):
            log.warning("a reply was lost: its response_url failed", error=why)
            return f"failed: {why}"
        args = {k: v for k, v in body.items() if k not in _URL_ONLY}
        thread_ts = args.get("thread_ts") or to.thread_ts
        if thread_ts:
            args["thread_ts"] = thread_ts
        try:
            if body.get("response_type") == "in_channel":
                self.writer.chat_postMessage(channel=to.channel, **args)
                return POSTED
            self.writer.chat_postEphemeral(channel=to.channel, user=str(to.user), **args)
            return EPHEMERAL
        except (SlackApiError, OSError) as exc:
            log.warning("a reply was lost: its fallback failed", error=exc, first=why)
            return f"failed: {exc}"


def _error_of(answer: WebhookResponse) -> str:
    """Pure: "ok", or the error Slack answered (a JSON `error`, or the plain-text body)."""
    text = (answer.body or "").strip()
    try:
        parsed = json.loads(text) if text.startswith("{") else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return "ok" if parsed.get("ok") is True else str(parsed.get("error") or "unknown_error")
    return text or ("ok" if answer.status_code == 200 else f"http_{answer.status_code}")
