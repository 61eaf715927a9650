"""The closed-loop world's traces and logs follow the live cluster: a rollback of the
release that fails ends its errors in traces and its panic lines in the logs; a service
left with no serving pod fails its callers' calls to it (503, no healthy upstream) until it
serves again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kubernetes import client

from bot.remediation.deployments import RollbackDeployment
from policies import ProposedAction
from sandbox.jaeger import TraceStore
from sandbox.kube import KubeSandbox
from sandbox.scenarios.catalog import load_scenario
from sandbox.scenarios.cluster_history import play_cluster
from sandbox.scenarios.timeline import Timeline
from sandbox.world.live_signals import LiveSignals

Json = dict[str, Any]


class Logs:
    """The documents the live world would ship to OpenSearch."""

    def __init__(self) -> None:
        self.documents: list[Json] = []

    def add_logs(self, documents: list[Json]) -> None:
        self.documents.extend(documents)


@contextmanager
def live(name: str) -> Iterator[tuple[KubeSandbox, LiveSignals, Logs]]:
    scenario = load_scenario(name)
    timeline = Timeline.ending_now(incident_ago=scenario.spec.incident.started_ago, horizon=0)
    logs = Logs()
    with KubeSandbox(None, auto_advance=False) as kube:
        history = play_cluster(kube, scenario, timeline)
        signals = LiveSignals(
            scenario,
            history,
            timeline,
            kube,
            TraceStore(),
            logs,
            clock=lambda: kube.cluster.now().timestamp(),
        )
        yield kube, signals, logs


def _failed_calls(traces: list[Json], service: str) -> list[int]:
    """Status codes of the failed server spans of `service`."""
    found = []
    for trace in traces:
        for span in trace["spans"]:
            tags = {t["key"]: t["value"] for t in span["tags"]}
            name = trace["processes"][span["processID"]]["serviceName"]
            if name == service and tags.get("error") and tags.get("span.kind") == "server":
                found.append(int(tags["http.status_code"]))
    return found


def _calls_to(traces: list[Json], callee: str) -> list[int]:
    """Status codes of the client spans that call `callee`."""
    found = []
    for trace in traces:
        for span in trace["spans"]:
            tags = {t["key"]: t["value"] for t in span["tags"]}
            if tags.get("span.kind") == "client" and callee in str(tags.get("peer.service", "")):
                found.append(int(tags.get("http.status_code", 200)))
    return found


def _rollback_checkout(kube: KubeSandbox) -> None:
    proposal = ProposedAction.model_validate(
        {
            "id": "live-signals",
            "kind": "rollback_deployment",
            "target": {"kind": "deployment", "namespace": "prod", "name": "checkout"},
            "reason": "1.9.0 panics",
            "proposer": "agent",
            "confidence": 0.9,
            "blast_radius": {"pods_affected": 3, "workload_share": 1.0},
            "incident_id": "1",
        }
    )
    action = RollbackDeployment(kube.api_client())
    action.call(action.plan(proposal), dry_run=False)


def test_a_rollback_of_the_failing_release_ends_its_errors_in_traces_and_logs() -> None:
    with live("deploy-error-rate") as (kube, signals, logs):
        kube.cluster.advance(600, step=10)
        during, lines = signals.tick()
        assert 500 in _failed_calls(during, "checkout")
        assert any("panic recovered" in d["message"] for d in lines)
        assert len(signals.traces) == len(during)

        _rollback_checkout(kube)
        kube.cluster.advance(120, step=5)
        signals.tick()  # the rollout's own minutes
        before = len(logs.documents)
        kube.cluster.advance(600, step=10)
        after, lines = signals.tick()
        assert after
        assert _failed_calls(after, "checkout") == []
        assert not any("panic recovered" in d["message"] for d in lines)
        assert any(d["service"]["name"] == "checkout" for d in lines)  # it still logs
        assert len(logs.documents) == before + len(lines)


def test_a_service_with_no_serving_pod_fails_its_callers_until_it_serves_again() -> None:
    with live("bad-image") as (kube, signals, _):
        apps: Any = client.AppsV1Api(kube.api_client())
        kube.cluster.advance(30, step=5)
        signals.tick()
        apps.patch_namespaced_deployment_scale("payments", "prod", {"spec": {"replicas": 0}})
        kube.cluster.advance(120, step=5)
        signals.tick()
        kube.cluster.advance(900, step=15)
        gone, lines = signals.tick()
        assert gone
        assert set(_calls_to(gone, "payments")) == {503}
        assert not any(d["service"]["name"] == "payments" for d in lines)

        apps.patch_namespaced_deployment_scale("payments", "prod", {"spec": {"replicas": 2}})
        kube.cluster.advance(120, step=5)
        signals.tick()
        kube.cluster.advance(900, step=15)
        back, _ = signals.tick()
        assert back
        assert 503 not in _calls_to(back, "payments")
