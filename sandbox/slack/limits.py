"""Rate limits (token buckets per method, and per channel where Slack scopes them so) and
injected failures for hardening tests.

Slack applies limits "per API method per workspace/team per app"; chat.postMessage has its
own ("special") tier of about one message per second per channel, short bursts allowed;
chat.update is a Tier 3 method, 50+ per minute for the whole workspace; chat.postEphemeral,
views.* and files.getUploadURLExternal/completeUploadExternal are Tier 4, 100+ per minute
(https://docs.slack.dev/apis/web-api/rate-limits; slackapi/java-slack-sdk MethodsRateLimits).
Over a limit Slack answers HTTP 429 with `Retry-After` seconds and `ratelimited`.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from sandbox.slack.config import SlackConfig

FAILURE_BODIES = {
    429: "ratelimited",
    500: "fatal_error",
    502: "service_unavailable",
    503: "service_unavailable",
    504: "request_timeout",
}


@dataclass
class _Bucket:
    tokens: float
    updated: float


PER_CHANNEL = frozenset({"chat.postMessage"})  # the other limited methods: per workspace
TIER4 = (
    "chat.postEphemeral",
    "views.open",
    "views.update",
    "views.push",
    "views.publish",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
)


class RateLimiter:
    """A token bucket per method, per channel for `PER_CHANNEL` methods; `take` answers how
    long to wait, or None."""

    def __init__(self, config: SlackConfig) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._rules: dict[str, tuple[float, int]] = {
            "chat.postMessage": (config.post_message_rate, config.post_message_burst),
            "chat.update": (config.update_rate, config.update_burst),
            **dict.fromkeys(TIER4, (config.tier4_rate, config.tier4_burst)),
        }

    def limits(self, method: str) -> bool:
        return method in self._rules

    def take(self, method: str, channel: str) -> int | None:
        """Spend one call to `channel`; over the limit returns the Retry-After seconds
        (at least 1)."""
        rule = self._rules.get(method)
        if rule is None or rule[0] <= 0:
            return None
        key = channel if method in PER_CHANNEL else ""
        rate, burst = rule
        capacity = max(1, burst)
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault((method, key), _Bucket(float(capacity), now))
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return max(1, math.ceil((1 - bucket.tokens) / rate))


@dataclass(frozen=True)
class InjectedFailure:
    """One failed answer. `landed`: the call took effect before it failed (a 5xx from a
    proxy after Slack stored the message); `delay_s`: the answer comes this late. A status
    of 200 with a delay is a slow success."""

    status: int
    error: str
    retry_after: int
    landed: bool = False
    delay_s: float = 0.0


class FailureInjector:
    """The next N calls of a method fail the way Slack fails (5xx or 429 with Slack's
    body), possibly after taking effect, or just answer slowly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[InjectedFailure]] = {}

    def inject(
        self,
        method: str,
        status: int,
        count: int,
        error: str | None,
        retry_after: int,
        *,
        landed: bool = False,
        delay_s: float = 0.0,
    ) -> None:
        failure = InjectedFailure(
            status,
            error or FAILURE_BODIES.get(status, "fatal_error"),
            retry_after,
            landed=landed,
            delay_s=delay_s,
        )
        with self._lock:
            self._pending.setdefault(method, []).extend([failure] * count)

    def next_failure(self, method: str) -> InjectedFailure | None:
        with self._lock:
            queue = self._pending.get(method)
            return queue.pop(0) if queue else None

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
