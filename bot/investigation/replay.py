"""Replay recorded incidents and score the answers.

Two paths. The real one (``InvestigatedReplay``): each fault's pack is loaded into a sandbox
world's backends (Prometheus, the log store, the Jaeger and Kubernetes stand-ins) and its
alert is investigated by the normal Investigator; the finding's suspects are scored. The
fast one (``replay_pack``): the in-memory pack goes straight to ``localise`` (for benches
that re-score many variants). ``replay_nezha`` walks a Nezha-layout directory (every day
under ``fault/``), optionally only some faults, through either.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from bot.investigation.eval import play_recorded
from bot.investigation.finding import finding_of
from bot.investigation.investigator import Investigator
from bot.investigation.localise import Localisation, localise
from bot.investigation.nezha import NezhaDay, find_faults
from bot.investigation.recorded import RecordedPack, write_pack
from bot.investigation.scoring import FaultOutcome
from sandbox.world import World


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


class InvestigatedReplay:
    """The real path: load each pack into a sandbox world, investigate its alert."""

    def __init__(self, world: World, investigator: Investigator, scratch: Path) -> None:
        self.world = world
        self.investigator = investigator
        self.scratch = scratch

    def __call__(self, pack: RecordedPack) -> tuple[FaultOutcome, list[str]]:
        """Write, load and investigate one pack; the outcome ranks the finding's suspects."""
        started = time.perf_counter()
        directory = self.scratch / pack.name
        write_pack(pack, directory)
        answer = play_recorded(self.world, self.investigator, directory)
        shutil.rmtree(directory, ignore_errors=True)
        finding = answer.finding
        outcome = _outcome(pack, finding.suspects, finding.fault_kind or "unknown", started)
        lines = [finding.summary] + [f"{e.tool}: {e.excerpt}" for e in finding.evidence[:2]]
        return outcome, lines


def _outcome(pack: RecordedPack, ranked: list[str], kind: str, started: float) -> FaultOutcome:
    truth = pack.truth
    return FaultOutcome(
        name=pack.name,
        inject_time=datetime.fromtimestamp(pack.window[0], UTC).strftime("%Y-%m-%d %H:%M:%S"),
        truth_service=truth.service if truth else "",
        truth_type=truth.kind if truth else "",
        ranked_services=ranked,
        predicted_type=kind,
        seconds=round(time.perf_counter() - started, 3),
    )


def in_memory(pack: RecordedPack) -> tuple[FaultOutcome, list[str]]:
    """The fast path: ``localise`` on the in-memory pack."""
    outcome, found = replay_pack(pack)
    finding = finding_of(found)
    lines = [finding.summary] + [f"{e.tool}: {e.excerpt}" for e in finding.evidence[:2]]
    return outcome, lines


def replay_nezha(
    root: Path,
    only: Iterable[str] = (),
    on_outcome: Callable[[FaultOutcome, list[str]], None] | None = None,
    packs_to: Path | None = None,
    replay: Callable[[RecordedPack], tuple[FaultOutcome, list[str]]] = in_memory,
) -> list[FaultOutcome]:
    """Replay every fault (or those whose ``HH_MM`` is in ``only``) of a Nezha directory
    through ``replay`` (the fast in-memory path unless given ``InvestigatedReplay``).

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
            outcome, lines = replay(pack)
            outcome = FaultOutcome(
                **{**outcome.__dict__, "seconds": round(outcome.seconds + building + shared, 3)}
            )
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome, lines)
    return outcomes
