"""Replay recorded incidents through localisation and score the answers.

One function per concern: ``replay_pack`` investigates one pack and times it, ``replay_nezha``
walks a Nezha-layout directory (every day under ``fault/``), optionally only some faults.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from bot.investigation.localise import Localisation, localise
from bot.investigation.nezha import NezhaDay, find_faults
from bot.investigation.recorded import RecordedPack, write_pack
from bot.investigation.scoring import FaultOutcome


def replay_pack(pack: RecordedPack) -> tuple[FaultOutcome, Localisation]:
    """Localise one pack and compare with its truth (empty truth when the pack has none)."""
    started = time.perf_counter()
    found = localise(pack)
    seconds = time.perf_counter() - started
    truth = pack.truth
    outcome = FaultOutcome(
        name=pack.name,
        inject_time=datetime.fromtimestamp(pack.window[0], UTC).strftime("%Y-%m-%d %H:%M:%S"),
        truth_service=truth.service if truth else "",
        truth_type=truth.kind if truth else "",
        ranked_services=found.services,
        predicted_type=found.kind,
        seconds=round(seconds, 3),
    )
    return outcome, found


def replay_nezha(
    root: Path,
    only: Iterable[str] = (),
    on_outcome: Callable[[FaultOutcome, Localisation], None] | None = None,
    packs_to: Path | None = None,
) -> list[FaultOutcome]:
    """Replay every fault (or those whose ``HH_MM`` is in ``only``) of a Nezha directory.

    A fault's ``seconds`` include building its pack from the day's files (the day's shared
    files, read once per day, are spread evenly over its faults). With ``packs_to``, each
    pack is also written there (``write_pack``), one directory per fault.
    """
    wanted = {label.replace(":", "_") for label in only}
    faults = [f for f in find_faults(root) if not wanted or f.label in wanted]
    outcomes: list[FaultOutcome] = []
    for day_name in sorted({f.day for f in faults}):
        mine = [f for f in faults if f.day == day_name]
        started = time.perf_counter()
        day = NezhaDay(root, day_name)
        shared = (time.perf_counter() - started) / len(mine)
        for fault in mine:
            started = time.perf_counter()
            pack = day.pack(fault)
            building = time.perf_counter() - started
            if packs_to is not None:
                write_pack(pack, packs_to / pack.name)
            outcome, found = replay_pack(pack)
            outcome = FaultOutcome(
                **{**outcome.__dict__, "seconds": round(outcome.seconds + building + shared, 3)}
            )
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome, found)
    return outcomes
