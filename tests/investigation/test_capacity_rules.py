"""Capacity rules: an HPA held at its maximum, and a node whose CPUs another workload takes."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.investigation.patterns.base import RuleContext
from bot.investigation.patterns.observe import Observations
from bot.investigation.patterns.rules_capacity import autoscaler_at_max, node_cpu_contention
from bot.investigation.patterns.rules_resources import cpu_throttling
from policies import ActionKind
from policies.resource_params import SetResourcesParams
from tools.k8s.pods import ContainerInfo, PodInfo, PodsData
from tools.metrics.query_tools import InstantQueryData, InstantSample, RangeQueryData
from tools.metrics.series import SeriesSummary

NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
CTX = RuleContext(now=NOW, incident_id=None, changes=())
HPA = {"namespace": "prod", "horizontalpodautoscaler": "web-hpa"}


def _instant(*samples: tuple[dict[str, str], float]) -> InstantQueryData:
    return InstantQueryData(
        query="q",
        time=NOW,
        result_type="vector",
        samples=[InstantSample(labels=labels, value=value) for labels, value in samples],
    )


def _range(first: float, last: float) -> RangeQueryData:
    series = SeriesSummary(labels={}, points=2, first=first, last=last, avg=(first + last) / 2)
    return RangeQueryData(
        query="q", start=NOW, end=NOW, step_seconds=60, total_series=1, series=[series]
    )


def _pod(name: str, node: str, owner: str, namespace: str = "prod") -> PodInfo:
    box = ContainerInfo(name="main", image="img:1", ready=True, restarts=0, state="running")
    return PodInfo(
        name=name,
        namespace=namespace,
        phase="Running",
        node=node,
        ready="1/1",
        restarts=0,
        created=NOW,
        owner=f"ReplicaSet/{owner}-5d9f7c6b8d",
        containers=[box],
        healthy=True,
    )


def _hpa_obs(*, at_max: bool, limited: bool, throttled: float) -> Observations:
    obs = Observations(namespace="prod", service="web")
    info = {**HPA, "scaletargetref_kind": "Deployment", "scaletargetref_name": "web"}
    obs.instants["autoscalers"] = _instant((info, 1.0))
    if at_max:
        obs.instants["autoscaler_at_max"] = _instant((HPA, 6.0))
    if limited:
        obs.instants["autoscaler_limited"] = _instant((HPA, 1.0))
    obs.instants["resource_limits"] = _instant(({"resource": "cpu"}, 0.5))
    obs.instants["resource_requests"] = _instant(({"resource": "cpu"}, 0.25))
    obs.ranges["cpu_throttling"] = _range(0.02, throttled)
    obs.pods = PodsData(
        namespace="prod", selector=None, total=1, pods=[_pod("web-5d9f7c6b8d-x2k4q", "n1", "web")]
    )
    return obs


def test_an_hpa_at_its_max_that_wants_more_asks_for_more_cpu_per_pod_and_a_human_for_max() -> None:
    found = autoscaler_at_max(_hpa_obs(at_max=True, limited=True, throttled=0.5), CTX)
    assert found is not None
    assert "maxReplicas (6)" in found.summary
    assert [a.kind for a in found.actions] == [ActionKind.SET_RESOURCES]
    params = found.actions[0].params
    assert isinstance(params, SetResourcesParams)
    assert (params.container, params.cpu_limit, params.cpu_request) == ("main", "1000m", "250m")
    assert any("Raise maxReplicas of HPA prod/web-hpa" in r for r in found.recommendations)


def test_an_hpa_below_its_max_is_no_capacity_finding_and_throttling_then_scales() -> None:
    obs = _hpa_obs(at_max=False, limited=False, throttled=0.5)
    assert autoscaler_at_max(obs, CTX) is None


def test_throttling_under_an_hpa_does_not_scale_the_deployment_by_hand() -> None:
    found = cpu_throttling(_hpa_obs(at_max=True, limited=True, throttled=0.5), CTX)
    assert found is not None
    assert not any(a.kind == ActionKind.SCALE_DEPLOYMENT for a in found.actions)
    assert any("web-hpa" in r for r in found.recommendations)


def _node_obs(top_pod: str, top_namespace: str = "batch") -> Observations:
    obs = Observations(namespace="prod", service="web")
    obs.pods = PodsData(
        namespace="prod",
        selector=None,
        total=2,
        pods=[_pod("web-5d9f7c6b8d-aaaaa", "n2", "web"), _pod("web-5d9f7c6b8d-bbbbb", "n1", "web")],
    )
    obs.instants["node_cpu_pressure"] = _instant(
        ({"node": "n1"}, 0.01), ({"node": "n2"}, 0.8), ({"node": "n3"}, 0.02)
    )
    top = {"node": "n2", "namespace": top_namespace, "pod": top_pod}
    obs.instants["node_top_cpu"] = _instant(
        (top, 3.5), ({"node": "n2", "namespace": "prod", "pod": "web-5d9f7c6b8d-aaaaa"}, 0.3)
    )
    obs.instants["node_top_unlimited_cpu"] = _instant((top, 3.5))
    return obs


def test_a_contended_node_is_named_with_its_noisy_neighbour_and_cordoned_not_the_victims() -> None:
    found = node_cpu_contention(_node_obs("indexer-7c8b9d6f5c-a1b2c"), CTX)
    assert found is not None
    assert "Node n2" in found.summary
    assert "batch/indexer-7c8b9d6f5c-a1b2c" in found.summary
    assert "no CPU limit" in found.summary
    assert [(a.kind, a.target.name) for a in found.actions] == [(ActionKind.CORDON_NODE, "n2")]
    assert any("drain" in r for r in found.recommendations)


def test_a_node_burned_by_the_service_itself_is_not_a_noisy_neighbour() -> None:
    assert node_cpu_contention(_node_obs("web-5d9f7c6b8d-ccccc", "prod"), CTX) is None


def test_every_node_contended_is_a_cluster_shortage_not_one_node() -> None:
    obs = _node_obs("indexer-7c8b9d6f5c-a1b2c")
    obs.instants["node_cpu_pressure"] = _instant(({"node": "n1"}, 0.6), ({"node": "n2"}, 0.8))
    assert node_cpu_contention(obs, CTX) is None
