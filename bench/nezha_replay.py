"""Root-cause localisation on recorded fault injections (Nezha layout), scored like the paper.

    python bench/nezha_replay.py DIR [--json OUT]

Replays every fault of every day under ``DIR/fault`` (baseline from ``DIR/normal``) through
``bot.investigation.localise`` and prints the per-fault table, AS@1, AS@3, fault-kind
accuracy and seconds per fault, over all faults and over each half of the faults by injection
time. The first localisation (commit 6cf9f1f) was tuned on the first half of 2023-01-29 only
and scored 0.14/0.21/0.57 (AS@1/AS@3/kind) on the second half; later changes were made after
seeing all 28 faults, so neither half is a clean hold-out any more: only another day is.
Wall-clock includes reading the day's files.

Tried on 2023-01-29 and left out, each scored over all 28 faults (AS@1/AS@3; the shipped
code scores 0.679/0.786): the fault's own pre-injection minute added to the baseline
(0.464/0.643) or as the whole baseline (0.250/0.500) -- too few samples; per-key noise
calibration against two halves of the baseline (0.393/0.500) or against normal-vs-pre-fault
drift (0.679/0.714); latency relative to the median of all operations (unchanged); client
spans' own time left to the edge signal only (0.679/0.714); spans that logged an ERROR
marked as error spans (0.607/0.714). Re-weighting the signals (``bench/nezha_weights.py``)
finds nothing better held-out. The misses are exception faults whose service shows
little of its own (a log line vanishing on one operation) while its callers' latency moves
much more.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.investigation.replay import replay_nezha
from bot.investigation.scoring import FaultOutcome, report


def _line(label: str, outcomes: list[FaultOutcome]) -> str:
    r = report(outcomes)
    return (
        f"{label:<22} n={len(outcomes):>2}  AS@1 {r['as_at_1']:.3f}  AS@3 {r['as_at_3']:.3f}  "
        f"kind {r['type_accuracy']:.3f}  {r['seconds_per_fault']:.1f} s/fault"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    started = time.perf_counter()
    outcomes = replay_nezha(args.directory)
    wall = time.perf_counter() - started
    print(f"{'fault':<20} {'truth':<30} {'rank':>4}  {'kind truth/pred':<26} {'s':>5}  top 3")
    for o in outcomes:
        rank = (
            o.ranked_services.index(o.truth_service) + 1
            if o.truth_service in o.ranked_services
            else 0
        )
        print(
            f"{o.inject_time:<20} {o.truth_service:<30} {rank or '-':>4}  "
            f"{o.truth_type + '/' + o.predicted_type:<26} {o.seconds:>5.1f}  "
            f"{', '.join(o.ranked_services[:3])}"
        )
    half = len(outcomes) // 2
    print(_line("all", outcomes))
    for kind in sorted({o.truth_type for o in outcomes}):
        print(_line(f"kind {kind}", [o for o in outcomes if o.truth_type == kind]))
    print(_line("first half", outcomes[:half]))
    print(_line("second half", outcomes[half:]))
    print(f"wall clock {wall:.1f} s for {len(outcomes)} faults")
    if args.json is not None:
        args.json.write_text(json.dumps(report(outcomes), indent=2))


if __name__ == "__main__":
    main()
