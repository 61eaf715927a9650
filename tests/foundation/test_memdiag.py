"""The opt-in allocation diagnostic (bot.app.memdiag) names what grew, and only what grew."""

from __future__ import annotations

import tracemalloc
from collections import Counter

from bot.app.memdiag import site_growth, type_growth, watch_allocations


class Hoarded:
    pass


def hoard(into: list[bytes], count: int) -> None:
    for _ in range(count):
        into.append(bytes(4096))


def test_the_site_that_keeps_allocating_tops_the_growth_report() -> None:
    tracemalloc.start(8)
    try:
        kept: list[bytes] = []
        base = tracemalloc.take_snapshot()
        hoard(kept, 500)
        now = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    top = site_growth(now, base, top=3)
    assert top[0]["kib"] >= 500 * 4
    assert top[0]["blocks"] >= 500
    assert top[0]["stack"][0].endswith("test_memdiag.py:17")
    assert all(entry["kib"] > 0 for entry in top)


def test_type_growth_lists_grown_types_only() -> None:
    base = Counter({"Hoarded": 2, "dict": 10, "list": 5})
    now = Counter({"Hoarded": 40, "dict": 11, "list": 3, "set": 1})
    assert type_growth(now, base, top=10) == {"Hoarded": 38, "dict": 1, "set": 1}
    assert type_growth(now, base, top=1) == {"Hoarded": 38}


def test_the_diagnostic_is_off_unless_configured() -> None:
    assert watch_allocations(0) is None
    assert not tracemalloc.is_tracing()
