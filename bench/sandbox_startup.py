"""Start-up time and memory of the whole sandbox, then the cost of loading scenarios.

    python -m bench.sandbox_startup [--scenario oom-kill | --all] [--history 12h] [--step 60s]

Prints the time `World.start()` takes (Prometheus, Alertmanager, osmem-server, Jaeger,
the Kubernetes stand-in, the Slack workspace and the scripted Claude), the resident memory
of every server process and of this process (which holds the in-process servers), then
the same after loading the scenario(s), with the time each load took.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from sandbox.scenarios import scenario_names
from sandbox.scenarios.timeline import parse_duration
from sandbox.world import World, WorldOptions

MIB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def memory_table(world: World) -> tuple[list[tuple[str, int]], int]:
    rows = [(name, rss_bytes(pid)) for name, pid in sorted(world.pids().items())]
    rows.append(("this process (jaeger, kube, slack, claude)", rss_bytes(os.getpid())))
    return rows, sum(size for _, size in rows)


def print_memory(title: str, world: World) -> None:
    rows, total = memory_table(world)
    print(f"\n{title}")
    for name, size in rows:
        print(f"  {name:45} {size / MIB:8.1f} MiB")
    print(f"  {'total':45} {total / MIB:8.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default="oom-kill", choices=scenario_names())
    parser.add_argument("--all", action="store_true", help="load every scenario in turn")
    parser.add_argument("--history", default="12h")
    parser.add_argument("--step", default="60s")
    args = parser.parse_args()
    options = WorldOptions(
        history=parse_duration(args.history), step=parse_duration(args.step), claude=True
    )
    begin = time.perf_counter()
    world = World(options).start()
    started = time.perf_counter() - begin
    try:
        print(f"sandbox start-up: {started:.2f} s")
        for name, url in world.urls.as_dict().items():
            print(f"  {name:13} {url}")
        print_memory("memory after start-up (RSS)", world)
        print(f"\nscenario loads (history {args.history}, step {args.step}):")
        for name in scenario_names() if args.all else [args.scenario]:
            begin = time.perf_counter()
            loaded = world.load(name)
            took = time.perf_counter() - begin
            rendered = loaded.rendered
            print(
                f"  {name:20} {took:6.2f} s  {rendered.samples:8} samples "
                f"{len(rendered.logs):6} log docs {len(rendered.traces):5} traces "
                f"{len(loaded.alerts):3} alerts"
            )
        print_memory("memory after loading (RSS)", world)
    finally:
        world.stop()


if __name__ == "__main__":
    main()
