"""`python -m sandbox.scenarios list | show NAME | render NAME OUT_DIR [--history 12h]`.

render writes what loading would put into the backends, for a look without servers:
metrics.om (OpenMetrics for promtool), logs.ndjson (ECS documents), traces.json (Jaeger).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from sandbox.jaeger import write_traces
from sandbox.kube import KubeSandbox
from sandbox.scenarios.catalog import ScenarioError, load_scenario, scenario_names
from sandbox.scenarios.cluster_history import play_cluster
from sandbox.scenarios.render import render
from sandbox.scenarios.timeline import Timeline, parse_duration


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.scenarios", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="scenario names and titles")
    show = sub.add_parser("show", help="a scenario's story, alerts and expected outcome")
    show.add_argument("name")
    out = sub.add_parser("render", help="generate a scenario's data into a folder")
    out.add_argument("name")
    out.add_argument("out", type=Path)
    out.add_argument("--history", default="12h")
    out.add_argument("--step", default="60s")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            for name in scenario_names():
                print(f"{name:20} {load_scenario(name).spec.title}")
        elif args.command == "show":
            scenario = load_scenario(args.name)
            print(yaml.safe_dump(scenario.spec.model_dump(exclude_defaults=True), sort_keys=False))
            print("alerts:", ", ".join(rule["alert"] for rule in scenario.rules()))
            print(
                yaml.safe_dump(scenario.expected.model_dump(exclude_defaults=True), sort_keys=False)
            )
        else:
            _render(args.name, args.out, parse_duration(args.history), parse_duration(args.step))
    except ScenarioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _render(name: str, out: Path, history: int, step: int) -> None:
    scenario = load_scenario(name)
    timeline = Timeline.ending_now(
        incident_ago=scenario.spec.incident.started_ago,
        history=max(history, scenario.spec.incident.started_ago + 1800),
        step=step,
    )
    with KubeSandbox(None, auto_advance=False) as kube:
        cluster = play_cluster(kube, scenario, timeline)
    rendered = render(scenario, cluster, timeline, out)
    rendered.metrics_file.rename(out / "metrics.om")
    with (out / "logs.ndjson").open("w") as handle:
        for doc in rendered.logs:
            handle.write(json.dumps(doc) + "\n")
    write_traces(out / "traces.json", rendered.traces)
    print(
        f"{out}: {rendered.samples} samples, {len(rendered.logs)} log documents, "
        f"{len(rendered.traces)} traces"
    )


if __name__ == "__main__":
    sys.exit(main())
