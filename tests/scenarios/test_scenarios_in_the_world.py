"""Every scenario loads into every backend of one shared world, and its alerts reach a real
bot through the real Alertmanager and open an incident thread in the Slack emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from kubernetes import client

from policies.routing import DEFAULT_RULES
from sandbox.scenarios import scenario_names
from sandbox.world import LoadedScenario, World, WorldOptions
from tests.botharness import running_bot, workspace
from tests.scenarios.evidence import (
    cluster_problem,
    log_count,
    matching_traces,
    metric_shape,
)
from tests.scenarios.pack_params import pack_params

HISTORY = 3600
STEP = 60
HEADER_TIMEOUT = 60  # generous: the bot shares 2 cores with the whole sandbox


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    options = WorldOptions(history=HISTORY, step=STEP, horizon=1800, slack=None)
    with World(options).start() as started:
        yield started


@pytest.fixture(scope="module")
def undelayed_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped incident rules without the notify delay for warnings, so a warning-only
    scenario's thread appears at once."""
    rules = yaml.safe_load(DEFAULT_RULES.read_text())
    rules["notify"] = []
    path = tmp_path_factory.mktemp("rules") / "routing.yaml"
    path.write_text(yaml.safe_dump(rules))
    return path


def _check_backends(world: World, loaded: LoadedScenario) -> list[str]:
    urls, evidence = world.urls, loaded.scenario.expected.evidence
    problems = []
    for metric in evidence.metrics:
        problems += metric_shape(urls.prometheus, metric, loaded.timeline)
    for logs in evidence.logs:
        found = log_count(urls.opensearch, logs)
        if found < logs.min_count:
            problems.append(f"{found} {logs.service} logs contain {logs.contains!r}")
    for traces in evidence.traces:
        if not matching_traces(urls.jaeger, traces):
            problems.append(f"no trace shows {traces}")
    for check in evidence.cluster:
        problem = cluster_problem(world.kube.api_client(), check)
        if problem:
            problems.append(problem)
    return problems + _unknown_objects(world, loaded)


def _unknown_objects(world: World, loaded: LoadedScenario) -> list[str]:
    """Pods and nodes the alerts name must be ones the Kubernetes API shows."""
    core: Any = client.CoreV1Api(world.kube.api_client())
    pods = {pod.metadata.name for pod in core.list_pod_for_all_namespaces().items}
    nodes = {node.metadata.name for node in core.list_node().items}
    return [
        f"{alert.name} names {kind} {alert.labels[kind]}, unknown to the cluster"
        for alert in loaded.alerts
        for kind, known in (("pod", pods), ("node", nodes))
        if kind in alert.labels and alert.labels[kind] not in known
    ]


@pytest.mark.parametrize("name", pack_params(scenario_names()))
def test_scenario_loads_into_every_backend_and_its_alerts_open_an_incident_thread(
    world: World, undelayed_rules: Path, tmp_path: Path, name: str
) -> None:
    slack = workspace()
    try:
        with running_bot(
            slack,
            database_url=f"sqlite:///{tmp_path / 'bot.db'}",
            alertmanager={"rules_file": str(undelayed_rules)},
        ) as bot:
            world.route_alerts_to(f"{bot.url}/alertmanager")
            loaded = world.run_scenario(name, resend=False)
            assert loaded.alerts, "a scenario always has alerts to play"
            late = [a.name for a in loaded.alerts if a.fired_at.timestamp() > loaded.timeline.now]
            assert late == [], "these alerts' `for` has not passed by the load moment"
            assert _check_backends(world, loaded) == []
            active = httpx.get(f"{world.urls.alertmanager}/api/v2/alerts", timeout=10).json()
            assert {a["labels"]["alertname"] for a in active} == {a.name for a in loaded.alerts}
            summaries = [alert.annotations["summary"][:40] for alert in loaded.alerts]

            def scenario_headers() -> list[str]:
                posted = [m for m in slack.messages("incidents") if m.get("bot_id")]
                shown = [json.dumps(m["blocks"]) for m in posted]
                return [text for text in shown if any(s in text for s in summaries)]

            assert slack.wait_for(scenario_headers, timeout=HEADER_TIMEOUT)
            world.resolve_alerts()  # delivered to this bot, not left for the next one
    finally:
        world.route_alerts_to(None)
        slack.close()
