"""Log parsing benchmark: opsbot's template miner against drain3 on Loghub-2k.

    python bench/logparse.py DIR [--lines N] [--json OUT]

DIR holds one folder per dataset with a ``*_structured_corrected.csv`` (columns ``Content``
and ``EventTemplate``), as in Loghub-2k. Each dataset's lines are fed in file order to a
fresh miner of each tool. Metrics, per dataset and averaged over datasets:

* GA (grouping accuracy): a line counts when the set of lines sharing its predicted cluster
  (the id returned when it was added) equals the set of lines sharing its true template.
* PA (parsing accuracy): a line counts when its cluster's template after the whole dataset
  equals its true template, both with whitespace runs collapsed to one space and trimmed.
  Nothing else is normalised; both tools print variables as ``<*>`` like the truth.

drain3 runs with its default ``TemplateMinerConfig`` (sim_th 0.4, depth 4, max_children 100,
no cluster cap) plus the masking list of drain3's example ``drain3.ini`` (ID, IP, two SEQ, HEX,
NUM) with each mask rendered ``<*>``. opsbot runs with its default ``MinerConfig``.

Throughput: a stream of ``--lines`` lines (default 1,000,000) drawn at random from all
datasets, with every IPv4, 0x-hex and standalone number replaced by a fresh random value of
the same shape, is fed to one miner of each tool; lines/s is wall-clock over the stream.
drain3's similarity ignores masked tokens, so lines that are mostly variables keep opening
new clusters and it slows down as the stream grows: the default run takes about ten minutes
on two cores, nearly all of it drain3's. ``--drain3-max-clusters N`` adds the LRU cap of
drain3's example ``drain3.ini`` (1024 there) to the throughput run only, for comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drain3 import TemplateMiner as Drain3Miner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

from bot.analysis.logmine.miner import TemplateMiner

# The masking list of drain3's examples/drain3.ini, masks rendered as <*>.
DRAIN3_MASKING = (
    r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)",
)
TOOLS = ("opsbot", "drain3")

Parsed = tuple[list[object], list[str]]  # cluster id per line, final template per line
Parser = Callable[[Sequence[str]], Parsed]
Feeder = Callable[[], Callable[[str], object]]


def opsbot_parse(lines: Sequence[str]) -> Parsed:
    miner = TemplateMiner()
    results = [miner.add(line) for line in lines]
    ids: list[object] = [r.cluster_id for r in results]
    final = {c.cluster_id: c.template for c in miner.clusters}
    return ids, [final.get(r.cluster_id, r.template) for r in results]


def drain3_miner(max_clusters: int | None = None) -> Drain3Miner:
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.drain_max_clusters = max_clusters
    config.masking_instructions = [MaskingInstruction(p, "*") for p in DRAIN3_MASKING]
    return Drain3Miner(config=config)


def drain3_parse(lines: Sequence[str]) -> Parsed:
    miner = drain3_miner()
    ids: list[object] = [miner.add_log_message(line)["cluster_id"] for line in lines]
    final = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return ids, [str(final[i]) for i in ids]


def load_dataset(folder: Path) -> tuple[list[str], list[str]] | None:
    found = sorted(folder.glob("*_structured_corrected.csv"))
    if not found:
        return None
    with found[0].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["Content"] for r in rows], [r["EventTemplate"] for r in rows]


def grouping_accuracy(predicted: Sequence[object], truth: Sequence[str]) -> float:
    by_pred: dict[object, set[int]] = defaultdict(set)
    by_true: dict[str, set[int]] = defaultdict(set)
    for i, (p, t) in enumerate(zip(predicted, truth, strict=True)):
        by_pred[p].add(i)
        by_true[t].add(i)
    right = sum(by_pred[p] == by_true[t] for p, t in zip(predicted, truth, strict=True))
    return right / len(truth) if truth else 0.0


def _squash(template: str) -> str:
    return " ".join(template.split())


def parsing_accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    right = sum(_squash(p) == _squash(t) for p, t in zip(predicted, truth, strict=True))
    return right / len(truth) if truth else 0.0


_VARIABLE = re.compile(
    r"(?P<ip>(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.]))"
    r"|(?P<hex>0x[0-9a-fA-F]+)"
    r"|(?P<num>(?<![A-Za-z0-9])\d+(?![A-Za-z0-9]))"
)


def rerandomise(line: str, rng: random.Random) -> str:
    def fresh(match: re.Match[str]) -> str:
        text = match.group()
        if match.lastgroup == "ip":
            return ".".join(str(rng.randrange(256)) for _ in range(4))
        if match.lastgroup == "hex":
            return "0x" + "".join(rng.choice("0123456789abcdef") for _ in text[2:])
        return str(rng.randrange(10 ** (len(text) - 1) if len(text) > 1 else 0, 10 ** len(text)))

    return _VARIABLE.sub(fresh, line)


def build_stream(pool: Sequence[str], size: int, seed: int = 42) -> list[str]:
    rng = random.Random(seed)
    return [rerandomise(rng.choice(pool), rng) for _ in range(size)]


def throughput(feeder: Callable[[str], object], stream: Sequence[str]) -> float:
    start = time.perf_counter()
    for line in stream:
        feeder(line)
    return len(stream) / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--drain3-max-clusters", type=int, default=None)
    args = parser.parse_args(argv)

    parsers: dict[str, Parser] = {"opsbot": opsbot_parse, "drain3": drain3_parse}
    datasets: dict[str, dict[str, dict[str, float]]] = {}
    pool: list[str] = []
    for folder in sorted(p for p in args.dir.iterdir() if p.is_dir()):
        loaded = load_dataset(folder)
        if loaded is None:
            continue
        lines, truth = loaded
        pool.extend(lines)
        datasets[folder.name] = {}
        for tool, parse in parsers.items():
            ids, templates = parse(lines)
            datasets[folder.name][tool] = {
                "ga": round(grouping_accuracy(ids, truth), 4),
                "pa": round(parsing_accuracy(templates, truth), 4),
            }
    if not datasets:
        parser.error(f"no *_structured_corrected.csv under {args.dir}")
    average = {
        tool: {
            metric: round(sum(d[tool][metric] for d in datasets.values()) / len(datasets), 4)
            for metric in ("ga", "pa")
        }
        for tool in TOOLS
    }
    stream = build_stream(pool, args.lines)
    ours, theirs = TemplateMiner(), drain3_miner(args.drain3_max_clusters)
    speed = {
        "opsbot": round(throughput(ours.add, stream)),
        "drain3": round(throughput(theirs.add_log_message, stream)),
    }
    clusters = {"opsbot": len(ours.clusters), "drain3": len(theirs.drain.clusters)}
    print_table(datasets, average, speed, clusters, len(stream))
    if args.json is not None:
        report = {"datasets": datasets, "average": average, "throughput": speed}
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def print_table(
    datasets: dict[str, dict[str, dict[str, float]]],
    average: dict[str, dict[str, float]],
    speed: dict[str, int],
    clusters: dict[str, int],
    stream_size: int,
) -> None:
    print(f"{'dataset':<12}{'opsbot GA':>11}{'opsbot PA':>11}{'drain3 GA':>11}{'drain3 PA':>11}")
    rows = [*datasets.items(), ("AVERAGE", average)]
    for name, scores in rows:
        cells = "".join(f"{scores[t][m]:>11.3f}" for t in TOOLS for m in ("ga", "pa"))
        print(f"{name:<12}{cells}")
    print(f"\nthroughput on a {stream_size:,}-line re-randomised stream:")
    for tool in TOOLS:
        print(f"  {tool:<8}{speed[tool]:>10,} lines/s {clusters[tool]:>9,} clusters at the end")


if __name__ == "__main__":
    raise SystemExit(main())
