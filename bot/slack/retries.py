"""The one retry budget of every Slack Web API call.

A Slack write used to be retried by four layers, each with its own count: slack_sdk's
429 handler (5), its 5xx and connection handlers (3 each), the post loop (4 attempts, each
of which could itself go through the handlers), and the callers' own repeat. A write
could spend minutes in retries while the channel's queue waited behind it. Now:

- **One budget per call** (`RetryBudget`): at most `attempts` tries whatever failed, and
  no retry starts later than `within_s` after the first failure. A 429 waits its
  `Retry-After` (if that fits the budget), a 5xx or a connection error backs off
  exponentially with jitter.
- **Who spends it:** `BudgetedRetries` (a slack_sdk retry handler) for every method but
  `chat.postMessage`; for posts the post loop in `bot.slack.posting` spends the same budget,
  because a post that failed with a 5xx may have landed and must be looked for before it is
  posted again (its 429s are retried there too, so a post never has two counters).
- **When it is spent**, the call raises. The caller that owns the work decides what comes
  next: the incident notifier leaves the step owed and its catch-up (every 10 s) tries
  again; a permanent error (`channel_not_found`, `invalid_blocks`, …) is recorded once and
  never retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import RemoteDisconnected
from urllib.error import URLError

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

POST_METHOD = "chat.postMessage"
_CONNECTION_ERRORS = (URLError, ConnectionResetError, RemoteDisconnected, TimeoutError)


@dataclass(frozen=True)
class RetryBudget:
    """How much retrying one Slack call may do (see the module doc)."""

    attempts: int = 4
    within_s: float = 30.0
    backoff_s: float = 0.5

    def backoff(self, retry: int) -> float:
        """Seconds before retry number `retry` (1-based) of a 5xx or connection error."""
        delay = float(self.backoff_s * (2 ** (retry - 1)))
        return delay + random.uniform(0, delay / 2)  # noqa: S311 (jitter, not crypto)

    def allows(self, retry: int, started: float, wait: float) -> bool:
        """Whether retry number `retry` may start after `wait` more seconds."""
        late = time.monotonic() + wait - started > self.within_s
        return retry < self.attempts and not late


def retry_after(headers: Mapping[str, list[str] | str]) -> float:
    """Seconds a 429 asks to wait (Slack always sends Retry-After; 1 s if it did not)."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except ValueError:
                return 1.0
    return 1.0


def is_post(request: HttpRequest) -> bool:
    """Whether the request is a chat.postMessage (retried by the post loop, not here)."""
    return request.url.split("?", 1)[0].rstrip("/").endswith(POST_METHOD)


class BudgetedRetries(RetryHandler):
    """429s, 5xx answers and connection errors of every method but chat.postMessage,
    retried within one RetryBudget."""

    def __init__(self, budget: RetryBudget) -> None:
        super().__init__(max_retry_count=max(0, budget.attempts - 1))
        self.budget = budget

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if is_post(request):
            return False
        values = state.custom_values if state.custom_values is not None else {}
        state.custom_values = values
        started = float(values.setdefault("started", time.monotonic()))
        retry = state.current_attempt + 1
        if response is not None and response.status_code == 429:
            wait = retry_after(response.headers)
        elif (response is not None and response.status_code >= 500) or (
            response is None and isinstance(error, _CONNECTION_ERRORS)
        ):
            wait = self.budget.backoff(retry)
        else:
            return False
        if not self.budget.allows(retry, started, wait):
            return False
        values["wait"] = wait
        return True

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        values = state.custom_values or {}
        time.sleep(float(values.pop("wait", 0.0)))
        state.increment_current_attempt()
