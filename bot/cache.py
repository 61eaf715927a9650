"""The cache seam: an in-process default and Redis when `OPSBOT_REDIS_URL` is set.

Besides get/set it offers the two primitives coordination needs: `add` (set if absent,
the building block of locks and dedup) and `incr` (counters with a window).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis

from bot.logs import get_logger
from bot.settings import CacheSettings

log = get_logger("opsbot.cache")


class Cache(Protocol):
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...
    def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        """Set only if absent; True when this call set it."""
        ...

    def delete(self, key: str) -> None: ...
    def incr(self, key: str, ttl: float | None = None) -> int:
        """Increment and return; the TTL starts with the first increment."""
        ...

    def ping(self) -> bool: ...
    def close(self) -> None: ...


class MemoryCache:
    """A thread-safe dict with expiry, for a single process."""

    def __init__(self, max_items: int = 100_000) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._lock = threading.Lock()
        self._max_items = max_items

    def _live(self, key: str, now: float) -> tuple[bytes, float | None] | None:
        item = self._data.get(key)
        if item is not None and item[1] is not None and item[1] <= now:
            del self._data[key]
            return None
        return item

    def _evict(self, now: float) -> None:
        if len(self._data) < self._max_items:
            return
        for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
            del self._data[key]
        while len(self._data) >= self._max_items:
            del self._data[next(iter(self._data))]

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._live(key, time.monotonic())
            return None if item is None else item[0]

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            self._evict(now)
            self._data[key] = (value, None if ttl is None else now + ttl)

    def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._live(key, now) is not None:
                return False
            self._evict(now)
            self._data[key] = (value, None if ttl is None else now + ttl)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def incr(self, key: str, ttl: float | None = None) -> int:
        now = time.monotonic()
        with self._lock:
            item = self._live(key, now)
            if item is None:
                self._evict(now)
                item = (b"0", None if ttl is None else now + ttl)
            count = int(item[0]) + 1
            self._data[key] = (str(count).encode(), item[1])
            return count

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        with self._lock:
            self._data.clear()


class RedisCache:
    """Redis with every key under one prefix; shared by all replicas."""

    def __init__(self, url: str, prefix: str = "opsbot:") -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._prefix = prefix

    def _k(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _ms(ttl: float | None) -> int | None:
        return None if ttl is None else max(1, int(ttl * 1000))

    def get(self, key: str) -> bytes | None:
        value = self._redis.get(self._k(key))
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._redis.set(self._k(key), value, px=self._ms(ttl))

    def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        return bool(self._redis.set(self._k(key), value, px=self._ms(ttl), nx=True))

    def delete(self, key: str) -> None:
        self._redis.delete(self._k(key))

    def incr(self, key: str, ttl: float | None = None) -> int:
        pipe = self._redis.pipeline()
        pipe.incr(self._k(key))
        if ttl is not None:
            pipe.pexpire(self._k(key), self._ms(ttl) or 1, nx=True)
        count = pipe.execute()[0]
        return int(count)

    def ping(self) -> bool:
        return bool(self._redis.ping())

    def close(self) -> None:
        self._redis.close()


class DegradingCache:
    """Redis first; while Redis is unreachable, an in-process cache stands in.

    The bot keeps answering when Redis dies: replay guards and caches become per-process
    for a while (locks that matter live in the database), and Redis is retried after a
    short cool-down. `ping` still reports Redis itself, so /readyz shows the degradation.
    """

    def __init__(self, primary: RedisCache, fallback: MemoryCache, retry_after: float = 5.0):
        self.primary = primary
        self.fallback = fallback
        self.retry_after = retry_after
        self._down_until = 0.0

    def _use_primary(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: redis.RedisError) -> None:
        if self._down_until <= time.monotonic():
            log.warning("redis unreachable; using the in-process cache", error=str(exc)[:200])
        self._down_until = time.monotonic() + self.retry_after

    def get(self, key: str) -> bytes | None:
        if self._use_primary():
            try:
                return self.primary.get(key)
            except redis.RedisError as exc:
                self._failed(exc)
        return self.fallback.get(key)

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        if self._use_primary():
            try:
                self.primary.set(key, value, ttl)
                return
            except redis.RedisError as exc:
                self._failed(exc)
        self.fallback.set(key, value, ttl)

    def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        if self._use_primary():
            try:
                return self.primary.add(key, value, ttl)
            except redis.RedisError as exc:
                self._failed(exc)
        return self.fallback.add(key, value, ttl)

    def delete(self, key: str) -> None:
        if self._use_primary():
            try:
                self.primary.delete(key)
            except redis.RedisError as exc:
                self._failed(exc)
        self.fallback.delete(key)

    def incr(self, key: str, ttl: float | None = None) -> int:
        if self._use_primary():
            try:
                return self.primary.incr(key, ttl)
            except redis.RedisError as exc:
                self._failed(exc)
        return self.fallback.incr(key, ttl)

    def ping(self) -> bool:
        try:
            return self.primary.ping()
        except redis.RedisError:
            return False

    def close(self) -> None:
        self.primary.close()
        self.fallback.close()


def build_cache(settings: CacheSettings) -> Cache:
    if settings.url is None:
        return MemoryCache()
    return DegradingCache(RedisCache(settings.url, settings.key_prefix), MemoryCache())
