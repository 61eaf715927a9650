"""Identifiers in Slack's formats: message timestamps, object ids, triggers, secrets."""

from __future__ import annotations

import secrets
import threading
import time


class TsClock:
    """Message timestamps ("1795428871.132977"), strictly increasing even within a microsecond."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_us = 0

    def next(self) -> str:
        with self._lock:
            now_us = time.time_ns() // 1000
            self._last_us = max(now_us, self._last_us + 1)
            seconds, micros = divmod(self._last_us, 1_000_000)
        return f"{seconds}.{micros:06d}"


class IdMint:
    """Object ids: one counter shared by all kinds, as in "C00000001" then "V00000002"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._n = 0

    def next(self, prefix: str) -> str:
        with self._lock:
            self._n += 1
            return f"{prefix}{self._n:08d}"

    def trigger_id(self) -> str:
        with self._lock:
            self._n += 1
            n = self._n
        return f"{int(time.time())}{n:04d}.1000000001.{secrets.token_hex(16)}"


def random_block_id() -> str:
    """Slack fills in a short random block_id for blocks sent without one."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(5))


def ts_to_float(ts: str) -> float:
    try:
        return float(ts)
    except ValueError:
        return -1.0
