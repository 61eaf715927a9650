"""Incident scenarios for the sandbox: one data folder each, generated into every backend.

    scenario = load_scenario("oom-kill")       # the folder, validated
    history = play_cluster(kube, scenario, timeline)   # the incident, in the cluster
    rendered = render(scenario, history, timeline, workdir)  # metrics, logs, traces

sandbox.world does all of this (and loads the results) with `World.load(name)`.
"""

from sandbox.scenarios.alerts import FiringAlert, evaluate_alerts
from sandbox.scenarios.catalog import (
    SCENARIOS_DIR,
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_names,
)
from sandbox.scenarios.cluster_history import play_cluster
from sandbox.scenarios.render import RenderedScenario, render
from sandbox.scenarios.timeline import Timeline

__all__ = [
    "SCENARIOS_DIR",
    "FiringAlert",
    "RenderedScenario",
    "Scenario",
    "ScenarioError",
    "Timeline",
    "evaluate_alerts",
    "load_scenario",
    "play_cluster",
    "render",
    "scenario_names",
]
