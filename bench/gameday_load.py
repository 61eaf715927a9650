"""The load of the closed-loop world while `opsbot gameday` plays: CPU and RSS.

    python -m bench.gameday_load [gameday arguments…]   e.g. --only bad-image oom-kill

Runs `opsbot gameday` with the given arguments as a child and samples its process tree
(the gameday process with the in-process bot, kube stand-in, Jaeger and Slack; Prometheus,
Alertmanager and the OpenSearch-API server as children) from /proc every 2 s, then
prints the CPU used (core-seconds, and cores on average over the run) and the RSS (peak
of the tree's sum, and each program's peak). Linux only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
EVERY = 2.0


@dataclass(frozen=True)
class Sample:
    """One process read from /proc: its parent, program, CPU seconds and resident bytes."""

    pid: int
    parent: int
    name: str
    cpu_s: float
    rss: int


def read_stat(text: str, pid: int) -> Sample:
    """A /proc/PID/stat line as a Sample (the program name may hold spaces and brackets)."""
    close = text.rfind(")")
    name = text[text.find("(") + 1 : close]
    fields = text[close + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    return Sample(pid, int(fields[1]), name, cpu, int(fields[21]) * PAGE)


def processes() -> list[Sample]:
    """Every process readable now."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                found.append(read_stat((entry / "stat").read_text(), int(entry.name)))
            except (OSError, IndexError, ValueError):
                continue  # gone between listing and reading
    return found


def tree(root: int, every: list[Sample]) -> list[Sample]:
    """`root` and its descendants among `every`."""
    children: dict[int, list[Sample]] = {}
    for sample in every:
        children.setdefault(sample.parent, []).append(sample)
    found = [s for s in every if s.pid == root]
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child.pid)
    return found


@dataclass
class Load:
    """What the samples add up to: CPU seconds per process (last reading) and RSS peaks."""

    cpu_s: dict[int, float] = field(default_factory=dict)
    peak_rss: int = 0
    peak_by_name: dict[str, int] = field(default_factory=dict)

    def add(self, samples: list[Sample]) -> None:
        for sample in samples:
            self.cpu_s[sample.pid] = sample.cpu_s
            known = self.peak_by_name.get(sample.name, 0)
            self.peak_by_name[sample.name] = max(known, sample.rss)
        self.peak_rss = max(self.peak_rss, sum(s.rss for s in samples))


def main(argv: list[str]) -> int:
    """Run the gameday, sample it, print the load."""
    command = [str(Path(sys.executable).with_name("opsbot")), "gameday", *argv]
    started = time.monotonic()
    child = subprocess.Popen(command)
    load = Load()
    while child.poll() is None:
        load.add(tree(child.pid, processes()))
        time.sleep(EVERY)
    wall = time.monotonic() - started
    cpu = sum(load.cpu_s.values())
    print(f"wall {wall:.0f} s, CPU {cpu:.0f} core-s ({cpu / wall:.2f} cores on average)")
    print(f"RSS peak {load.peak_rss / 2**20:.0f} MiB (the tree's sum at its largest)")
    for name, peak in sorted(load.peak_by_name.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<16} {peak / 2**20:6.0f} MiB")
    return child.returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
