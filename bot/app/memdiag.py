"""Opt-in allocation growth report, for finding what a long-running process accumulates.

With OPSBOT_LOG_TRACEMALLOC_SECONDS > 0, tracemalloc records allocations and every that
many seconds one warning line lists the allocation sites (with a few frames of stack) and
the object types that grew most since the first snapshot. Off by default: tracemalloc
roughly doubles the cost of every allocation and holds its own bookkeeping in memory.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

from bot.logs import get_logger

log = get_logger("opsbot.memdiag")
IGNORED = (tracemalloc.__file__, "<unknown>")
ROOT = f"{Path(__file__).resolve().parents[2]}/"
OUR_CODE = tuple(f"{ROOT}{package}/" for package in ("bot", "handlers", "tools", "policies"))


def site_growth(
    now: tracemalloc.Snapshot, base: tracemalloc.Snapshot, top: int, frames: int = 4
) -> list[dict[str, Any]]:
    """The `top` call stacks whose live allocations grew most from `base` to `now`."""
    keep = [tracemalloc.Filter(False, name) for name in IGNORED]
    diffs = now.filter_traces(keep).compare_to(base.filter_traces(keep), "traceback")
    grown = sorted((d for d in diffs if d.size_diff > 0), key=lambda d: -d.size_diff)
    return [
        {
            "kib": round(d.size_diff / 1024, 1),
            "blocks": d.count_diff,
            "stack": stack([f"{f.filename}:{f.lineno}" for f in reversed(d.traceback)], frames),
        }
        for d in grown[:top]
    ]


def stack(locations: list[str], frames: int) -> list[str]:
    """From `locations` (innermost first): the innermost frame, then the innermost `frames`
    frames of our own code (which say who holds on to the allocation), shortened."""
    ours = [loc for loc in locations[1:] if loc.startswith(OUR_CODE)]
    return [short(loc) for loc in [*locations[:1], *ours[:frames]]]


def short(location: str) -> str:
    """A frame without the interpreter's or the checkout's directory prefix."""
    for marker in ("site-packages/", ROOT):
        if marker in location:
            return location.split(marker, 1)[1]
    return location


def type_counts() -> Counter[str]:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def type_growth(now: Counter[str], base: Counter[str], top: int) -> dict[str, int]:
    """The `top` object types whose live count grew most (only growth)."""
    grown = Counter({name: now[name] - base.get(name, 0) for name in now})
    return {name: count for name, count in grown.most_common(top) if count > 0}


class AllocationWatch:
    """A daemon thread taking snapshots; the first one is the baseline."""

    def __init__(self, interval: float, top: int = 12, frames: int = 12) -> None:
        self.interval = interval
        self.top = top
        self.frames = frames
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="opsbot-memdiag", daemon=True)

    def start(self) -> AllocationWatch:
        tracemalloc.start(self.frames)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        tracemalloc.stop()

    def _run(self) -> None:
        """The first interval is warm-up (lazy imports, pools filling); later lines report
        growth since the end of it, so what keeps growing stands out."""
        base, base_types = tracemalloc.take_snapshot(), type_counts()
        warm = False
        while not self._stop.wait(self.interval):
            snapshot, types = tracemalloc.take_snapshot(), type_counts()
            traced, peak = tracemalloc.get_traced_memory()
            log.warning(
                "allocation growth since warm-up" if warm else "allocation growth in warm-up",
                traced_mib=round(traced / 2**20, 1),
                peak_mib=round(peak / 2**20, 1),
                sites=site_growth(snapshot, base, self.top),
                types=type_growth(types, base_types, self.top),
            )
            if not warm:
                base, base_types, warm = snapshot, types, True


def watch_allocations(seconds: float) -> AllocationWatch | None:
    """Start the watch when configured (seconds > 0); None when off."""
    return AllocationWatch(seconds).start() if seconds > 0 else None
