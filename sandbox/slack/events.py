"""Events API delivery off the caller's thread, with Slack's retries scheduled on timers so a
bot that is down or slow never ties up the workers that deliver fresh events."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from sandbox.slack.config import SlackConfig
from sandbox.slack.delivery import Deliverer, DeliveryResult, retry_reason

Json = dict[str, Any]


class EventSender:
    def __init__(
        self,
        deliverer: Deliverer,
        config: Callable[[], SlackConfig],
        finished: Callable[[Json, DeliveryResult], None],
    ) -> None:
        self._deliverer = deliverer
        self._config = config
        self._finished = finished
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-events")
        self._lock = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._closed = False

    def send(self, envelope: Json) -> None:
        self._submit(envelope, 0, None)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for timer in self._timers:
                timer.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _submit(self, envelope: Json, attempt: int, reason: str | None) -> None:
        try:
            self._pool.submit(self._attempt, envelope, attempt, reason)
        except RuntimeError:  # closed: Slack is gone, nothing more is delivered
            return

    def _attempt(self, envelope: Json, attempt: int, reason: str | None) -> None:
        config = self._config()
        result = self._deliverer.event_attempt(envelope, attempt, reason)
        result = replace(result, attempts=attempt + 1)
        delays = config.event_retry_delays_s
        no_retry = result.headers.get("x-slack-no-retry") == "1"
        if result.ok or no_retry or attempt >= len(delays):
            self._finished(envelope, result)
            return
        socket = config.delivery == "socket"
        self._schedule(delays[attempt], envelope, attempt + 1, retry_reason(result, socket=socket))

    def _schedule(self, delay: float, envelope: Json, attempt: int, reason: str) -> None:
        with self._lock:
            if self._closed:
                return
            self._timers = {t for t in self._timers if t.is_alive()}
            timer = threading.Timer(delay, self._submit, (envelope, attempt, reason))
            timer.daemon = True
            self._timers.add(timer)
            timer.start()
