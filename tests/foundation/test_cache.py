from __future__ import annotations

import threading
import time

from bot.cache import Cache


def test_a_value_can_be_stored_read_and_deleted(cache: Cache) -> None:
    assert cache.get("k") is None
    cache.set("k", b"v")
    assert cache.get("k") == b"v"
    cache.delete("k")
    assert cache.get("k") is None


def test_a_value_expires_after_its_ttl(cache: Cache) -> None:
    cache.set("short", b"v", ttl=0.05)
    time.sleep(0.12)
    assert cache.get("short") is None


def test_add_succeeds_for_exactly_one_of_many_racing_callers(cache: Cache) -> None:
    winners: list[int] = []

    def claim(n: int) -> None:
        if cache.add("lock", str(n).encode(), ttl=5):
            winners.append(n)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert cache.get("lock") == str(winners[0]).encode()


def test_incr_counts_within_a_window_and_restarts_after_it(cache: Cache) -> None:
    assert [cache.incr("rate", ttl=0.1) for _ in range(3)] == [1, 2, 3]
    time.sleep(0.2)
    assert cache.incr("rate", ttl=0.1) == 1


def test_the_cache_answers_a_ping(cache: Cache) -> None:
    assert cache.ping() is True
