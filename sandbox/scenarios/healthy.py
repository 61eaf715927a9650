"""The shop on a quiet day: a scenario pack with its incident taken out (no metric effects,
log bursts, trace patterns, faults, rollouts or alerts), so loading it fills every backend
with normal traffic only. What `opsbot dev` shows before anyone starts an incident."""

from __future__ import annotations

from dataclasses import replace

from sandbox.scenarios.catalog import Scenario, load_scenario
from sandbox.scenarios.spec import TraceSpec

HEALTHY = "healthy"
BASE_PACK = "slow-dependency"  # any pack without capacity history: only its cluster is kept


def healthy_scenario(base: str = BASE_PACK) -> Scenario:
    """`base` without its incident: the same cluster and traffic, nothing going wrong."""
    pack = load_scenario(base)
    quiet_traces = TraceSpec(
        normal_per_hour=pack.spec.traces.normal_per_hour,
        incident_per_hour=pack.spec.traces.normal_per_hour,
    )
    spec = pack.spec.model_copy(
        update={
            "title": "the shop on a quiet day",
            "summary": "Normal traffic; nothing is wrong.",
            "metrics": [],
            "logs": [],
            "traces": quiet_traces,
            "capacity_history": 0,
        }
    )
    return replace(
        pack, name=HEALTHY, spec=spec, faults=[], rollouts=[], alert_rules={"groups": []}
    )
