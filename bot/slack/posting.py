"""chat.postMessage at most once, even when Slack's answer is lost.

A 5xx, a timeout or a dropped connection after Slack stored a message looks exactly like a
failure, and Slack has no idempotency key for chat.postMessage: retrying blindly posts the
message twice (two incident headers, two triage notes). So posts are never retried by the
generic 5xx/connection retry handlers. Instead every post carries a key in its message
metadata; after an uncertain outcome the client reads the channel (or the thread) back,
adopts the message if it landed, and only posts again if it did not. A key a caller passes
(`metadata.event_payload.opsbot_key`) is remembered across calls in `UnsureOutcomes`, so a
later attempt by the same caller (the incident notifier's next sync) checks before posting
too; the bot stores them in the database (bot.slack.unsure), so another replica or a
restarted process checks as well.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from bot.logs import get_logger
from bot.slack.fit import fit_message, split_message
from bot.slack.retries import POST_METHOD, BudgetedRetries, RetryBudget, retry_after
from bot.slack.writer import OutboxStopped, current_priority, lane_of

T = TypeVar("T")

log = get_logger("opsbot.slack.posting")
KEY_FIELD = "opsbot_key"
EVENT_TYPE = "opsbot_post"
LOOKBACK_S = 120.0  # how far before the first uncertain attempt a landed copy is searched


class UnsureOutcomes(Protocol):
    """Posts whose outcome is unknown: key -> when the first uncertain attempt began."""

    def since(self, key: str) -> float | None: ...
    def mark(self, key: str, at: float) -> None:
        """Remember `key` (keeping the earliest time if it is already known)."""
        ...

    def settle(self, key: str) -> None: ...


class InProcessOutcomes:
    """UnsureOutcomes in this process's memory."""

    def __init__(self) -> None:
        self._unsure: dict[str, float] = {}
        self._lock = threading.Lock()

    def since(self, key: str) -> float | None:
        with self._lock:
            return self._unsure.get(key)

    def mark(self, key: str, at: float) -> None:
        with self._lock:
            self._unsure.setdefault(key, at)

    def settle(self, key: str) -> None:
        with self._lock:
            self._unsure.pop(key, None)


MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage"}
)
VIEW_METHODS = frozenset({"views.open", "views.update", "views.push", "views.publish"})


def fitted(api_method: str, body: dict[str, Any] | None) -> dict[str, Any] | None:
    """A message or view body within Slack's limits (`bot.slack.fit`): every message and
    view the bot sends goes through here, so none is refused for a field's length."""
    if body is None:
        return None
    if api_method == POST_METHOD:
        return body  # split (and so fitted) by IdempotentWebClient before it is posted
    if api_method in MESSAGE_METHODS:
        return fit_message(body)
    if api_method in VIEW_METHODS and isinstance(body.get("view"), dict):
        return {**body, "view": fit_message(body["view"], in_view=True)}
    return body


def post_key(kind: str, *parts: object) -> dict[str, Any]:
    """Message metadata with a stable idempotency key: post_key("incident", 7, "header")."""
    return {
        "event_type": EVENT_TYPE,
        "event_payload": {KEY_FIELD: ":".join([kind, *(str(p) for p in parts)])},
    }


def _rate_limited(exc: Exception) -> float | None:
    """The Retry-After of a 429 (Slack did not take the post: it is safe to post again)."""
    if isinstance(exc, SlackApiError) and getattr(exc.response, "status_code", 200) == 429:
        return retry_after(dict(getattr(exc.response, "headers", {}) or {}))
    return None


def _uncertain(exc: Exception) -> bool:
    """True when a failed post may nevertheless have been stored by Slack."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        return isinstance(status, int) and status >= 500
    return isinstance(exc, OSError)  # timeouts, resets, refused connections


def _key_of(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict):
        return None
    payload = metadata.get("event_payload")
    key = payload.get(KEY_FIELD) if isinstance(payload, dict) else None
    return key if isinstance(key, str) else None


class Writes(Protocol):
    """The pacing every write waits in (bot.slack.outbox.Outbox): runs `fn` when a slot
    of `lane` comes, the most urgent `priority` first, and returns what it returns."""

    def call(self, channel: str, priority: int, fn: Callable[[], T], *, edit: bool = False) -> T:
        """Run one write in `channel`'s lane (`edit`: a chat.update-like write)."""
        ...


class IdempotentWebClient(WebClient):
    """A WebClient whose chat.postMessage posts each message at most once (see module doc),
    and, once `pace_through` has bound it to the outbox, whose every write waits for its
    slot in Slack's rate limits (bot.slack.writer): the one outbound Slack writer."""

    def __init__(
        self,
        *args: Any,
        budget: RetryBudget | None = None,
        outcomes: UnsureOutcomes | None = None,
        **kwargs: Any,
    ) -> None:
        """Posts spend `budget` (bot.slack.retries) in the loop here; every other method
        spends the same budget in the retry handler `build_web_client` installs."""
        super().__init__(*args, **kwargs)
        self.budget = budget or RetryBudget()
        self._own_keys = InProcessOutcomes()  # keys made up here: no other caller can retry them
        self.outcomes: UnsureOutcomes = outcomes or self._own_keys  # keys callers passed
        self._writes: Writes | None = None

    def pace_through(self, writes: Writes) -> None:
        """From now on every write waits for its slot in `writes` (the composition root
        binds the incident notifier's outbox, so incident steps, digests, ephemerals,
        modals and uploads share one pacing)."""
        self._writes = writes

    def _paced(self, api_method: str, body: dict[str, Any] | None, fn: Callable[[], T]) -> T:
        """Run one HTTP call of `api_method` in its lane (at once when it is a read or no
        outbox is bound; at once too once the outbox has stopped, at shutdown)."""
        lane = lane_of(api_method, body)
        if lane is None or self._writes is None:
            return fn()
        try:
            return self._writes.call(lane.name, current_priority(), fn, edit=lane.edit)
        except OutboxStopped:
            return fn()  # the queued write never ran: write it unpaced rather than lose it

    def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> SlackResponse:
        json = fitted(api_method, json)
        if api_method != POST_METHOD or json is None:
            body = json if json is not None else (data or params)
            return self._paced(
                api_method,
                body,
                lambda: super(IdempotentWebClient, self).api_call(
                    api_method,
                    http_verb=http_verb,
                    files=files,
                    data=data,
                    params=params,
                    json=json,
                    headers=headers,
                    auth=auth,
                ),
            )
        first, *rest = split_message(json)
        answer = self._post(first, headers)
        thread = str(first.get("thread_ts") or answer.get("ts") or "")
        base = _key_of(first) or uuid.uuid4().hex  # a caller's key makes retries find them
        for n, continuation in enumerate(rest, start=2):
            metadata = post_key("part", base, n)
            try:
                self._post({**continuation, "thread_ts": thread, "metadata": metadata}, headers)
            except (SlackApiError, OSError) as exc:  # the message itself is posted: go on
                log.warning("a continuation of a long message was not posted", part=n, error=exc)
                break
        return answer

    def _post(self, json: dict[str, Any], headers: dict[str, Any] | None) -> SlackResponse:
        """One chat.postMessage, at most once (see the module doc)."""
        body = dict(json)
        key = self._ensure_key(body)
        if key is not None:
            return self._post_once(key, body, headers, self.outcomes)
        made_up = _key_of(body) or ""
        try:
            return self._post_once(made_up, body, headers, self._own_keys)
        finally:
            self._own_keys.settle(made_up)

    @staticmethod
    def _ensure_key(body: dict[str, Any]) -> str | None:
        """The caller's key, or None after giving the post a key of its own."""
        metadata = body.get("metadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("event_payload"), dict):
            key = metadata["event_payload"].get(KEY_FIELD)
            if isinstance(key, str) and key:
                return key
            body["metadata"] = {
                **metadata,
                "event_payload": {**metadata["event_payload"], KEY_FIELD: uuid.uuid4().hex},
            }
            return None
        body["metadata"] = {
            "event_type": EVENT_TYPE,
            "event_payload": {KEY_FIELD: uuid.uuid4().hex},
        }
        return None

    def _post_once(
        self,
        key: str,
        body: dict[str, Any],
        headers: dict[str, Any] | None,
        outcomes: UnsureOutcomes,
    ) -> SlackResponse:
        last: Exception | None = None
        wait = 0.0
        started = time.monotonic()
        for attempt in range(self.budget.attempts):
            if attempt:
                if not self.budget.allows(attempt, started, wait):
                    break
                time.sleep(wait)
            since = outcomes.since(key)
            if since is not None:
                try:
                    landed = self._find(key, body, since)
                except (SlackApiError, OSError) as exc:
                    last = exc  # cannot tell whether it landed: do not post blindly
                    wait = self.budget.backoff(attempt + 1)
                    continue
                if landed is not None:
                    outcomes.settle(key)
                    log.info("adopted a post that landed despite an error", key=key)
                    return landed
            try:
                answer = self._paced(
                    POST_METHOD,
                    body,
                    lambda: super(IdempotentWebClient, self).api_call(
                        POST_METHOD, json=body, headers=headers
                    ),
                )
            except (SlackApiError, OSError) as exc:
                last = exc
                limited = _rate_limited(exc)
                if limited is not None:
                    wait = limited  # not taken by Slack: post again after Retry-After
                    continue
                if not _uncertain(exc):
                    if since is not None:
                        outcomes.settle(key)
                    raise
                if since is None:
                    outcomes.mark(key, time.time())
                log.warning("post outcome unknown; will check before retrying", key=key)
                wait = self.budget.backoff(attempt + 1)
                continue
            if since is not None:
                outcomes.settle(key)
            return answer
        assert last is not None
        raise last

    def _find(self, key: str, body: dict[str, Any], since: float) -> SlackResponse | None:
        """The message posted with `key` since `since`, read back from the channel or thread."""
        channel = str(body.get("channel", ""))
        thread_ts = body.get("thread_ts")
        oldest = f"{since - LOOKBACK_S:.6f}"
        if thread_ts:
            page = self.conversations_replies(
                channel=channel,
                ts=str(thread_ts),
                oldest=oldest,
                limit=200,
                include_all_metadata=True,
            )
        else:
            page = self.conversations_history(
                channel=channel, oldest=oldest, limit=200, include_all_metadata=True
            )
        for message in page.get("messages") or []:
            if isinstance(message, dict) and _key_of(message) == key:
                data = {"ok": True, "channel": channel, "ts": message["ts"], "message": message}
                return SlackResponse(
                    client=self,
                    http_verb="POST",
                    api_url=f"{self.base_url}{POST_METHOD}",
                    req_args={},
                    data=data,
                    headers={},
                    status_code=200,
                )
        return None


def build_web_client(
    token: str | None,
    base_url: str,
    timeout: int,
    outcomes: UnsureOutcomes | None = None,
    budget: RetryBudget | None = None,
) -> IdempotentWebClient:
    """Every call within one retry budget (bot.slack.retries): 429s after Retry-After,
    5xx and connection errors with back-off; posts check whether they landed before
    posting again (remembering keys whose outcome is unknown in `outcomes`, in process
    memory when None)."""
    spent = budget or RetryBudget()
    return IdempotentWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        outcomes=outcomes,
        budget=spent,
        retry_handlers=[BudgetedRetries(spent)],
    )


def open_view(client: WebClient, trigger_id: str, view: Any) -> str | None:
    """views.open with a click's trigger_id; Slack's error code when it fails (the
    trigger lives 3 seconds and is single-use, so a slow or repeated click gets
    `expired_trigger_id`/`exchanged_trigger_id`), None when the modal opened. The caller
    tells the person instead of letting the failure escape as a crashed listener."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown_error")
        log.warning("a modal did not open", error=error)
        return error
    return None
