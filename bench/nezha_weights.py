"""Held-out choice of localisation's signal weights on recorded faults (Nezha layout).

    python bench/nezha_weights.py DIR

Computes every fault's change signals once, then scores a grid of weight sets (each free
signal's default weight times 0.5, 1 or 2) through ``bot.investigation.localise``. It prints
the defaults' AS@1/AS@3, the best set in-sample, and two held-out protocols that never score
a fault with weights chosen on it: leave-one-fault-out (choose on the other faults, score the
one left out) and choose-on-one-half / score-on-the-other (halves by injection time). Ties
go to the set closest to the defaults.

A signal is free only when the faults can speak for it: it must occur in their shifts, and a
signal tied to a fault kind (latency/edges to network delay, cpu, memory) stays at its
default when that kind is absent, since tuning it there can only learn to ignore it.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.investigation.localise import WEIGHTS, change_shifts, localise_shifts
from bot.investigation.nezha import NezhaDay, find_faults
from bot.investigation.recorded import RecordedPack
from bot.investigation.signals import Periods, Shift

MULTIPLIERS = (0.5, 1.0, 2.0)
KIND_SIGNALS: dict[str, tuple[str, ...]] = {
    "latency": ("latency", "edges"),
    "cpu": ("cpu",),
    "memory": ("memory",),
}
"""Signals whose only use is one fault kind: free only when that kind is among the faults."""


@dataclass
class Case:
    """One fault's pack and its shifts, computed once."""

    pack: RecordedPack
    periods: Periods
    shifts: list[Shift]


def _signal_name(shift: Shift) -> str:
    if shift.signal != "logs":
        return shift.signal
    if shift.error_like:
        return "error-logs"
    return "logs-down" if shift.after < shift.before else "logs-up"


def free_signals(cases: Sequence[Case]) -> list[str]:
    """Signals the faults can speak for (see the module docstring)."""
    present = {_signal_name(s) for c in cases for s in c.shifts}
    kinds = {c.pack.truth.kind for c in cases if c.pack.truth}
    tied = {sig for kind, sigs in KIND_SIGNALS.items() if kind not in kinds for sig in sigs}
    return sorted(sig for sig, w in WEIGHTS.items() if w > 0 and sig in present - tied)


def ranks(cases: Sequence[Case], weights: dict[str, float]) -> list[int]:
    """The truth's rank (1-based; 0 when not ranked) of every case under ``weights``."""
    out = []
    for case in cases:
        found = localise_shifts(case.pack, case.periods, case.shifts, weights)
        truth = case.pack.truth.service if case.pack.truth else ""
        out.append(found.services.index(truth) + 1 if truth in found.services else 0)
    return out


def _hits(rows: Sequence[int], k: int) -> int:
    return sum(1 for r in rows if 0 < r <= k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    faults = find_faults(args.directory)
    cases: list[Case] = []
    for day_name in sorted({f.day for f in faults}):
        day = NezhaDay(args.directory, day_name)
        for fault in (f for f in faults if f.day == day_name):
            pack = day.pack(fault)
            periods, shifts = change_shifts(pack)
            cases.append(Case(pack, periods, shifts))
    free = free_signals(cases)
    grid = [
        {**WEIGHTS, **{sig: WEIGHTS[sig] * m for sig, m in zip(free, combo, strict=True)}}
        for combo in itertools.product(MULTIPLIERS, repeat=len(free))
    ]
    table = [ranks(cases, w) for w in grid]
    n = len(cases)

    def distance(j: int) -> float:
        return sum(abs(grid[j][s] - WEIGHTS[s]) for s in free)

    def choose(on: Sequence[int]) -> int:
        return max(
            range(len(grid)),
            key=lambda j: (
                _hits([table[j][i] for i in on], 1),
                _hits([table[j][i] for i in on], 3),
                -distance(j),
            ),
        )

    every = list(range(n))
    default = grid.index(dict(WEIGHTS))
    print(f"free signals: {', '.join(free)}; {len(grid)} weight sets; {n} faults")
    print(
        f"defaults          AS@1 {_hits(table[default], 1) / n:.3f}  "
        f"AS@3 {_hits(table[default], 3) / n:.3f}"
    )
    best = choose(every)
    chosen = {s: grid[best][s] for s in free}
    print(
        f"in-sample best    AS@1 {_hits(table[best], 1) / n:.3f}  "
        f"AS@3 {_hits(table[best], 3) / n:.3f}  {chosen}"
    )
    held = [table[choose([i for i in every if i != k])][k] for k in every]
    print(f"leave-one-out     AS@1 {_hits(held, 1) / n:.3f}  AS@3 {_hits(held, 3) / n:.3f}")
    half = n // 2
    for label, on, off in (
        ("choose 1st, score 2nd", every[:half], every[half:]),
        ("choose 2nd, score 1st", every[half:], every[:half]),
    ):
        j = choose(on)
        rows = [table[j][i] for i in off]
        print(
            f"{label}  AS@1 {_hits(rows, 1) / len(off):.3f}  "
            f"AS@3 {_hits(rows, 3) / len(off):.3f}  { ({s: grid[j][s] for s in free}) }"
        )
    print(f"wall clock {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
